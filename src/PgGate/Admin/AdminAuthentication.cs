using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using PgGate.Config;

namespace PgGate.Admin;

/// <summary>
/// HTTP Basic authentication for the admin API's write endpoints (every method but GET and HEAD: pause, resume,
/// switchover), when <c>admin.username</c> is configured; Patroni guards its unsafe REST endpoints the same way. Reads
/// stay open, so Prometheus, the status page and load balancers' checks need no credentials.
/// </summary>
internal static class AdminAuthentication
{
    public const string Realm = "pggate";

    /// <summary>The Authorization header PgGate's own clients (CLI, other nodes) send; null when none is configured.</summary>
    public static AuthenticationHeaderValue? HeaderFor(AdminConfig admin)
    {
        if (!admin.RequiresAuthentication || admin.Password.Resolve() is not { } password)
            return null;
        return new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(admin.Username + ":" + password)));
    }

    /// <summary>Null when the request may proceed; otherwise the 401 to send.</summary>
    public static IResult? Challenge(HttpContext context, AdminConfig admin)
    {
        if (!admin.RequiresAuthentication || HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
            return null;
        if (Matches(context.Request.Headers.Authorization.ToString(), admin))
            return null;
        context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\", charset=\"UTF-8\"";
        return SwitchoverApi.Error(HttpStatusCode.Unauthorized,
            "this admin API endpoint needs the credentials of admin.username and admin.password (HTTP Basic)");
    }

    private static bool Matches(string header, AdminConfig admin)
    {
        const string scheme = "Basic ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || ReadPassword(admin) is not { } password)
            return false;
        byte[] given;
        try
        {
            given = Convert.FromBase64String(header[scheme.Length..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        // Compared in constant time, so the answer's timing says nothing about how much of a guess was right.
        var expected = Encoding.UTF8.GetBytes(admin.Username + ":" + password);
        return CryptographicOperations.FixedTimeEquals(given, expected);
    }

    // A password file that cannot be read (removed, permissions) refuses every write request instead of failing it
    // with a 500; the variable or file is read at each request, so fixing it takes effect at once.
    private static string? ReadPassword(AdminConfig admin)
    {
        try
        {
            return admin.Password.Resolve();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
