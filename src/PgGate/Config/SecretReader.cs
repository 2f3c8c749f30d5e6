using System.Text.RegularExpressions;
using PgGate.Config.Yaml;

namespace PgGate.Config;

/// <summary><c>password</c> / <c>password_env</c> / <c>password_file</c>: at most one, so the source of a secret is never ambiguous.</summary>
internal static partial class SecretReader
{
    public static readonly string[] Keys = ["password", "password_env", "password_file"];

    public static SecretSource Read(ConfigMap map)
    {
        ConfigNode? given = null;
        string? givenKey = null;
        foreach (var key in Keys)
        {
            if (map.Get(key) is not { } node)
                continue;
            if (given is not null)
            {
                throw new ConfigException(node.Location, node.Path,
                    "both " + givenKey + " and " + key + " are set; give the secret exactly one way: password, password_env or password_file");
            }
            given = node;
            givenKey = key;
        }
        if (given is not { } n)
            return SecretSource.None;

        switch (givenKey)
        {
            case "password":
                return new SecretSource { Value = n.AsString("the password as a string") };
            case "password_env":
            {
                var name = n.AsString("the name of an environment variable holding the password");
                if (!EnvName().IsMatch(name))
                    throw n.Expected("an environment variable name such as PGGATE_MONITOR_PASSWORD");
                return new SecretSource { Env = name };
            }
            default:
                return new SecretSource { File = n.AsString("the path of a file holding the password") };
        }
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();
}
