using PgGate.Pooling.Sessions;

namespace PgGate.Pooling;

/// <summary>A pause of the pools whose key <paramref name="covers"/> accepts (see <see cref="Pooler.PauseAsync(PoolPauseScope, CancellationToken)"/>).</summary>
internal sealed class PoolPauseScope(Func<PoolKey, bool> covers)
{
    public bool Covers(PoolKey key) => covers(key);
}
