using System.Net;
using System.Net.Sockets;

namespace PgGate.Services;

/// <summary>Socket set-up shared by every listener PgGate opens (services, pooler).</summary>
public static class ListenSockets
{
    public static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Restarts must not wait out TIME_WAIT on the service port.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            // Accepted sockets inherit these on Linux: five system calls fewer per client.
            socket.NoDelay = true;
            EnableKeepAlive(socket);
            socket.Bind(endpoint);
            socket.Listen(4096);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Parses <c>*</c>, an IPv4/IPv6 literal, or a host name that resolves locally.</summary>
    public static IPAddress ParseBindAddress(string ip)
    {
        if (ip is "*" or "" or "0.0.0.0")
            return IPAddress.Any;
        if (ip is "::" or "[::]")
            return IPAddress.IPv6Any;
        if (IPAddress.TryParse(ip.Trim('[', ']'), out var address))
            return address;
        foreach (var a in Dns.GetHostAddresses(ip))
        {
            if (a.AddressFamily == AddressFamily.InterNetwork)
                return a;
        }
        throw new ArgumentException($"cannot bind to '{ip}': not an IP address and it does not resolve to an IPv4 address");
    }

    public static bool IsTransient(SocketException ex) => ex.SocketErrorCode is SocketError.TooManyOpenSockets
        or SocketError.NoBufferSpaceAvailable or SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.Interrupted;

    /// <summary>Keepalive finds dead peers (a crashed client host, a half-open connection) within about a minute.</summary>
    public static void EnableKeepAlive(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 30);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 3);
    }
}
