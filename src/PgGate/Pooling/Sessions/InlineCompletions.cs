using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// Runs the continuations of a pooler socket's reads and writes on .NET's socket event thread instead of handing each
/// one to the thread pool. The pooler's per-message work is short and never blocks, so the hand-off was pure cost: a
/// queue, a wake-up and a context switch per receive, twice per query (client, then server). On 2 cores this roughly
/// halved the pooler's CPU per <c>pgbench -S</c> transaction and raised <c>pgbench -N</c> (five round trips per
/// transaction) by 1.4-3×; docs/benchmarks.md has the paired runs. Only the pooler's client, server and listening
/// sockets opt in (the listener's accepts start each login on the event thread: 25-35 % less CPU per new client);
/// the admin server, health checks and the byte relay keep their own scheduling. Work that takes milliseconds (SCRAM
/// key derivation, the TLS handshake) hops to the thread pool explicitly.
/// <para>
/// .NET exposes this per socket only through <c>Socket.PreferInlineCompletions</c>, an experimental internal setter
/// that the runtime keeps reachable for exactly this use (the process-wide alternative is the environment variable
/// DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1). If a runtime lacks it, sockets simply stay as they are.
/// PGGATE_POOLER_INLINE_COMPLETIONS=0 turns it off (e.g. to compare, or on a machine with many cores, where one
/// event thread per 30 cores would then carry all pooler work; DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT raises that).
/// </para>
/// </summary>
internal static class InlineCompletions
{
    private static bool s_available = Environment.GetEnvironmentVariable("PGGATE_POOLER_INLINE_COMPLETIONS") != "0";

    public static void Prefer(Socket socket)
    {
        if (!s_available)
        {
            return;
        }

        try
        {
            SetPreferInlineCompletions(socket, true);
        }
        catch (MissingMethodException)
        {
            s_available = false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_PreferInlineCompletions")]
    private static extern void SetPreferInlineCompletions(Socket socket, bool value);
}
