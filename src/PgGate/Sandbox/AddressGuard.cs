using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace PgGate.Sandbox;

/// <summary>
/// Makes sure a member's host:port is free before its server starts. A server left by a killed sandbox run is
/// stopped; anything else holding the address is reported with its PID and directory.
/// </summary>
internal static class AddressGuard
{
    public static async Task EnsureFreeAsync(string memberName, IPAddress address, int port, ILogger logger, CancellationToken cancellationToken)
    {
        if (!await AcceptsConnectionsAsync(address, port, cancellationToken))
        {
            return;
        }

        var where = $"Cannot start sandbox member {memberName} on {address}:{port}: the address is in use";
        var owners = ProcFs.ListenersOn(address, port);
        if (owners.Count == 0)
        {
            throw new SandboxException(
                $"{where} by a process this process cannot see. Find it with `ss -ltnp 'sport = :{port}'` (as root), " +
                "stop it, or give the cluster other Hosts or another Port.");
        }

        foreach (var pid in owners)
        {
            var directory = ProcFs.WorkingDirectory(pid);
            var sandbox = directory is null ? null : SandboxDirectories.SandboxDirectoryOf(directory);
            if (sandbox is null)
            {
                var command = ProcFs.CommandLine(pid);
                var isPostgres = command.Contains("postgres", StringComparison.Ordinal);
                throw new SandboxException(
                    $"{where} by PID {pid} (`{command}`, {(isPostgres ? "data" : "working")} directory {directory ?? "unknown"}), " +
                    "which is not a PgGate sandbox. Stop it" +
                    (isPostgres ? $" (`pg_ctl stop -D {directory}` as its OS user)" : "") +
                    " or give the cluster other Hosts or another Port.");
            }

            var owner = SandboxOwner.ReadFrom(sandbox);
            if (owner is not null && owner.IsAlive)
            {
                throw new SandboxException(
                    $"{where} by PostgreSQL PID {pid} (data directory {directory}) of a sandbox that process {owner.Pid}" +
                    (owner.IsCurrentProcess ? " (this process)" : "") + " still owns. Dispose that cluster or end that " +
                    "process first, or give this cluster other Hosts or another Port.");
            }

            LeftoverSweeper.Remove(sandbox, $"its server PID {pid} held {address}:{port} and its owner is gone", logger);
        }

        if (await AcceptsConnectionsAsync(address, port, cancellationToken))
        {
            throw new SandboxException(
                $"{where}, and stopping the leftover sandbox server there did not free it. " +
                $"Look with `ss -ltnp 'sport = :{port}'` and stop the process by hand.");
        }
    }

    /// <summary>Whether anything accepts TCP connections on the address and port right now.</summary>
    public static async Task<bool> AcceptsConnectionsAsync(IPAddress address, int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), timeout.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Loopback refuses at once; a connect that hangs means a listener with a full backlog.
            return true;
        }
    }
}
