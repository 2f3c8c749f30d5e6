using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using PgGate.Pooling;

namespace PgGate.Benchmarks;

/// <summary>
/// Bench-only entry points (bench/pooler/run.sh):
/// <list type="bullet">
/// <item><c>pooler</c>: PgGate's pooler with the settings given as arguments (PgBouncer's names), until SIGTERM/SIGINT.</item>
/// <item><c>idle</c>: opens N client connections to a pooler, logs each in (trust) and keeps them idle until SIGTERM/SIGINT.</item>
/// </list>
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length == 0)
        {
            return Usage("a command is required");
        }

        var options = ParseOptions(args.AsSpan(1));
        if (options is null)
        {
            return Usage("options come in pairs: --name value");
        }

        try
        {
            return args[0] switch
            {
                "pooler" => await RunPoolerAsync(options).ConfigureAwait(false),
                "idle" => await RunIdleClientsAsync(options).ConfigureAwait(false),
                _ => Usage($"unknown command '{args[0]}'"),
            };
        }
        catch (ArgumentException e)
        {
            return Usage(e.Message);
        }
    }

    private static int Usage(string problem)
    {
        Console.Error.WriteLine($"PgGate.Benchmarks: {problem}.");
        Console.Error.WriteLine("""
            usage:
              PgGate.Benchmarks pooler --listen ADDR:PORT --backend HOST:PORT [--pool-size 20] [--mode transaction|session|statement]
                                       [--max-client-conn 20000] [--auth-file userlist.txt] [--max-prepared 256] [--reserve-pool 0]
              PgGate.Benchmarks idle --target ADDR:PORT --count N [--user postgres] [--database bench] [--parallel 64]
            """);
        return 2;
    }

    private static Dictionary<string, string>? ParseOptions(ReadOnlySpan<string> args)
    {
        if (args.Length % 2 != 0)
        {
            return null;
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                return null;
            }

            options[args[i][2..]] = args[i + 1];
        }

        return options;
    }

    private static string Required(Dictionary<string, string> options, string name) =>
        options.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    private static int Number(Dictionary<string, string> options, string name, int fallback) =>
        options.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    private static IPEndPoint EndPoint(string text) =>
        IPEndPoint.TryParse(text, out var endpoint) ? endpoint : throw new ArgumentException($"'{text}' is not ADDR:PORT");

    private static async Task<int> RunPoolerAsync(Dictionary<string, string> options)
    {
        var listen = EndPoint(Required(options, "listen"));
        var backend = EndPoint(Required(options, "backend"));
        var mode = Enum.Parse<PoolMode>(options.GetValueOrDefault("mode", "transaction"), ignoreCase: true);
        var settings = new PoolerSettings
        {
            ListenAddr = listen.Address.ToString(),
            ListenPort = listen.Port,
            PoolMode = mode,
            DefaultPoolSize = Number(options, "pool-size", 20),
            ReservePoolSize = Number(options, "reserve-pool", 0),
            MaxClientConn = Number(options, "max-client-conn", 20000),
            MaxDbConnections = 0,
            MaxUserConnections = 0,
            MaxPreparedStatements = Number(options, "max-prepared", 256),
            AuthType = PoolerAuthType.Trust,
            AuthFile = options.GetValueOrDefault("auth-file"),
            AuthHbaFile = null,
            ClientTlsSslMode = ClientTlsMode.Disable,
            Databases = [new PoolerDatabase { Name = PoolerDatabase.FallbackName, Host = backend.Address.ToString(), Port = backend.Port }],
        };

        using var loggerFactory = LoggerFactory.Create(builder => builder.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        var pooler = new Pooler(settings, loggerFactory.CreateLogger("pooler"));
        await using (pooler.ConfigureAwait(false))
        {
            var listener = new PoolerListener(pooler, listen);
            await using (listener.ConfigureAwait(false))
            {
                listener.Start();
                Console.Out.WriteLine($"pooler listening on {listener.Endpoint} -> {backend}, {mode}, pool size {settings.DefaultPoolSize}");
                await WaitForSignalAsync().ConfigureAwait(false);
            }
        }

        return 0;
    }

    private static async Task<int> RunIdleClientsAsync(Dictionary<string, string> options)
    {
        var target = EndPoint(Required(options, "target"));
        var count = Number(options, "count", 1000);
        var parallel = Number(options, "parallel", 64);
        var startup = StartupPacket(options.GetValueOrDefault("user", "postgres"), options.GetValueOrDefault("database", "bench"));
        var sockets = new Socket[count];
        var next = -1;
        var failures = 0;
        string? firstFailure = null;

        async Task OpenSomeAsync()
        {
            var buffer = new byte[8192];
            int index;
            while ((index = Interlocked.Increment(ref next)) < count)
            {
                try
                {
                    sockets[index] = await LoginAsync(target, startup, buffer).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or IOException or InvalidDataException)
                {
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstFailure, e.Message, null);
                }
            }
        }

        var started = DateTime.UtcNow;
        var workers = new Task[Math.Min(parallel, count)];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = OpenSomeAsync();
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"idle clients: {count - failures} logged in, {failures} failed{(firstFailure is null ? "" : $" (first: {firstFailure})")}, {seconds:F1} s"));
        await Console.Out.FlushAsync().ConfigureAwait(false);
        await WaitForSignalAsync().ConfigureAwait(false);
        foreach (var socket in sockets)
        {
            socket?.Dispose();
        }

        return failures == 0 ? 0 : 1;
    }

    /// <summary>Connects, sends the startup packet, and reads messages until ReadyForQuery (trust authentication).</summary>
    private static async Task<Socket> LoginAsync(IPEndPoint target, byte[] startup, byte[] buffer)
    {
        var socket = new Socket(target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(target).ConfigureAwait(false);
            await socket.SendAsync(startup, SocketFlags.None).ConfigureAwait(false);
            var filled = 0;
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException("the server closed the connection during login");
                }

                filled += read;
                var offset = 0;
                while (filled - offset >= 5)
                {
                    var type = (char)buffer[offset];
                    var length = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(offset + 1));
                    if (filled - offset < 1 + length)
                    {
                        break;
                    }

                    if (type == 'E')
                    {
                        throw new InvalidDataException("login refused: " + Encoding.UTF8.GetString(buffer, offset + 5, length - 4).Replace('\0', ' '));
                    }

                    if (type == 'Z')
                    {
                        return socket;
                    }

                    offset += 1 + length;
                }

                Buffer.BlockCopy(buffer, offset, buffer, 0, filled - offset);
                filled -= offset;
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static byte[] StartupPacket(string user, string database)
    {
        var body = Encoding.UTF8.GetBytes($"user\0{user}\0database\0{database}\0\0");
        var packet = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), 196608);
        body.CopyTo(packet, 8);
        return packet;
    }

    private static Task WaitForSignalAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; done.TrySetResult(); });
        PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; done.TrySetResult(); });
        return done.Task;
    }
}
