using System.Net;
using System.Net.Sockets;
using PgGate.Services.Relay;

namespace PgGate.Services;

/// <summary>Opens connections to members within a connect timeout (HAProxy's <c>timeout connect</c>).</summary>
internal static class ServerConnector
{
    /// <summary>
    /// Connects <paramref name="session"/> to the member on its relay loop, trying each address of a host name in turn
    /// within one deadline. Returns null on success, else what went wrong (for the log), without exceptions.
    /// </summary>
    public static async ValueTask<string?> ConnectAsync(RelaySession session, string host, int port, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var ip))
        {
            addresses = [ip];
        }
        else
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            try
            {
                addresses = await Dns.GetHostAddressesAsync(host, cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                return $"cannot resolve {host}: {(ex is SocketException ? ex.Message : "timed out")}";
            }
        }
        var error = SocketError.HostNotFound;
        foreach (var address in addresses)
        {
            error = await session.ConnectAsync(new IPEndPoint(address, port), deadline, cancellationToken).ConfigureAwait(false);
            if (error == SocketError.Success)
                return null;
            if (error is SocketError.TimedOut or SocketError.OperationAborted)
                break;
        }
        return error switch
        {
            SocketError.TimedOut => $"connect to {host}:{port} timed out after {timeout.TotalSeconds:0.###}s",
            SocketError.OperationAborted => $"connect to {host}:{port} was cancelled",
            SocketError.HostNotFound => $"{host} has no address",
            _ => $"connect to {host}:{port} failed: {session.ConnectErrorMessage}",
        };
    }
}
