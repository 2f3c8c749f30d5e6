namespace PgGate.Pooling.Sessions;

/// <summary>A count of server connections shared by several pools (max_db_connections, max_user_connections).</summary>
internal sealed class ConnectionLimit
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Takes a slot unless <paramref name="max"/> (0 = unlimited) is reached.</summary>
    public bool TryAcquire(int max)
    {
        while (true)
        {
            var count = Volatile.Read(ref _count);
            if (max > 0 && count >= max)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, count + 1, count) == count)
            {
                return true;
            }
        }
    }

    public void Release() => Interlocked.Decrement(ref _count);
}
