namespace PgGate.Config;

/// <summary>
/// The HAProxy half of one of Pigsty's <c>pg_rto_plan</c> entries (<c>[ttl, loop, retry, start, margin, inter, fastinter,
/// downinter, rise, fall]</c>). Values are kept as the text Pigsty's template would print, so the rendered
/// <c>default-server</c> line is byte-identical to Pigsty's.
/// </summary>
public sealed record RtoPlan(string Name, string Inter, string FastInter, string DownInter, string Rise, string Fall)
{
    public const string DefaultName = "norm";

    /// <summary>Pigsty's <c>pg_rto_plan</c> defaults (roles/pgsql/defaults/main.yml).</summary>
    public static IReadOnlyDictionary<string, RtoPlan> PigstyDefaults { get; } = new Dictionary<string, RtoPlan>(StringComparer.Ordinal)
    {
        ["fast"] = new("fast", "1s", "0.5s", "1s", "3", "3"),
        ["norm"] = new("norm", "2s", "1s", "2s", "3", "3"),
        ["safe"] = new("safe", "3s", "1.5s", "3s", "3", "3"),
        ["wide"] = new("wide", "4s", "2s", "4s", "3", "3"),
    };

    /// <summary>
    /// Pigsty's <c>haproxy_rto_options</c>: <c>inter 2s fastinter 1s downinter 2s rise 3 fall 3 on-marked-down shutdown-sessions
    /// slowstart 30s maxconn 3000 maxqueue 128 weight 100</c> for norm.
    /// </summary>
    public string OptionsText =>
        "inter " + Inter + " fastinter " + FastInter + " downinter " + DownInter + " rise " + Rise + " fall " + Fall +
        " on-marked-down shutdown-sessions slowstart 30s maxconn 3000 maxqueue 128 weight 100";
}
