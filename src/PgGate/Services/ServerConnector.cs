using System.Net;
using System.Net.Sockets;
using PgGate.Services.Relay;

namespace PgGate.Services;

/// <summary>Opens connections to members within a connect timeout (HAProxy's <c>timeout connect</c>).</summary>
public static class ServerConnector
{
    public static async Task<Socket> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        var addresses = IPAddress.TryParse(host, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(host, cts.Token).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cts.Token).ConfigureAwait(false);
                ListenSockets.EnableKeepAlive(socket);
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new TimeoutException($"connect to {host}:{port} timed out after {timeout.TotalSeconds:0.###}s");
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>
    /// Connects <paramref name="session"/> to the member on its relay loop, trying each address of a host name in turn
    /// within one deadline. Returns null on success, else what went wrong (for the log), without exceptions.
    /// </summary>
    internal static async ValueTask<string?> ConnectAsync(RelaySession session, string host, int port, TimeSpan timeout,
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
