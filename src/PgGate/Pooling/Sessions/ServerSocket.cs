using System.Net;
using System.Net.Sockets;
using PgGate.Services;

namespace PgGate.Pooling.Sessions;

/// <summary>Opens TCP or Unix-socket connections to backends.</summary>
internal static class ServerSocket
{
    public static async Task<Socket> ConnectAsync(BackendEndpoint endpoint, CancellationToken cancellationToken)
    {
        if (endpoint.IsUnixSocket)
        {
            var path = Path.Combine(endpoint.Host, ".s.PGSQL." + endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            InlineCompletions.Prefer(unix);
            try
            {
                await unix.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                return unix;
            }
            catch
            {
                unix.Dispose();
                throw;
            }
        }

        var addresses = IPAddress.TryParse(endpoint.Host, out var ip)
            ? [ip]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            InlineCompletions.Prefer(socket);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken).ConfigureAwait(false);
                ListenSockets.EnableKeepAlive(socket);
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }
}
