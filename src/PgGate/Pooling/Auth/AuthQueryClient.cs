using System.Buffers;
using System.Net.Sockets;
using PgGate.Pooling.Sessions;
using PgGate.Protocol;

namespace PgGate.Pooling.Auth;

/// <summary>
/// Runs auth_query as auth_user on one backend and database, so that users need not be copied into auth_file: the
/// server's own pg_authid secret is fetched at login (for SCRAM, the verifier; the pooler then logs in to the server
/// with the keys recovered from the client's own exchange). One connection, kept open and used by one login at a time.
/// </summary>
internal sealed class AuthQueryClient : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly BackendEndpoint _backend;
    private readonly string _database;
    private Socket? _socket;

    public AuthQueryClient(BackendEndpoint backend, string database)
    {
        _backend = backend;
        _database = database;
    }

    /// <summary>The secret of <paramref name="user"/> per <paramref name="query"/> ($1 = user), or null when no row comes back.</summary>
    public async Task<UserSecret?> LookupAsync(
        string user, string query, ServerCredentials authUser, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var fresh = _socket is null;
                try
                {
                    if (_socket is null)
                    {
                        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        timeout.CancelAfter(connectTimeout);
                        var socket = await ServerSocket.ConnectAsync(_backend, timeout.Token).ConfigureAwait(false);
                        try
                        {
                            await ServerLogin.LoginAsync(socket, _backend, _database, authUser, timeout.Token).ConfigureAwait(false);
                        }
                        catch
                        {
                            socket.Dispose();
                            throw;
                        }

                        _socket = socket;
                    }

                    return await RunAsync(_socket, user, query, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or ServerLoginException or IOException && !fresh && attempt == 0)
                {
                    // The kept connection died (server restart, idle timeout): one retry on a new one.
                    Reset();
                }
                catch
                {
                    Reset();
                    throw;
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<UserSecret?> RunAsync(Socket socket, string user, string query, CancellationToken cancellationToken)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        FrontendMessageWriter.WriteParse(writer, string.Empty, query);
        FrontendMessageWriter.WriteBind(writer, string.Empty, string.Empty, [user]);
        FrontendMessageWriter.WriteExecute(writer, string.Empty);
        FrontendMessageWriter.WriteSync(writer);
        await ServerLogin.SendAsync(socket, writer, cancellationToken).ConfigureAwait(false);

        using var reader = new MessageSocketReader(socket);
        var peer = new EndPointDescription(_backend);
        UserSecret? secret = null;
        var found = false;
        PgErrorFields? error = null;
        while (true)
        {
            var code = await reader.ReadAsync(peer, cancellationToken).ConfigureAwait(false);
            switch (code)
            {
                case BackendMessageCode.DataRow when !found:
                    if (BackendMessageReader.TryReadDataRow(reader.Payload, out var values) && values.Length >= 2)
                    {
                        found = true;
                        secret = UserSecret.Parse(values[1]);
                    }

                    break;
                case BackendMessageCode.ErrorResponse:
                    BackendMessageReader.TryReadErrorFields(reader.Payload, out error);
                    break;
                case BackendMessageCode.ReadyForQuery:
                    if (error is not null)
                    {
                        throw new InvalidOperationException($"auth_query failed on {peer}: {error.Message} (SQLSTATE {error.SqlState})");
                    }

                    return found ? secret : null;
            }
        }
    }

    private void Reset()
    {
        _socket?.Dispose();
        _socket = null;
    }

    public void Dispose()
    {
        Reset();
        _gate.Dispose();
    }
}
