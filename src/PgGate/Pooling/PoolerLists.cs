namespace PgGate.Pooling;

/// <summary>SHOW LISTS: counts of the pooler's objects. PgGate keeps no free lists or DNS cache, so those are 0.</summary>
public sealed record PoolerLists(int Databases, int Users, int Pools, int UsedClients, int LoginClients, int UsedServers)
{
    public int FreeClients => 0;

    public int FreeServers => 0;
}
