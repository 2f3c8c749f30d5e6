namespace PgGate.Pooling;

/// <summary>When a server connection goes back to the pool (PgBouncer's <c>pool_mode</c>).</summary>
public enum PoolMode
{
    /// <summary>When the client disconnects; the server runs <c>server_reset_query</c> first.</summary>
    Session,

    /// <summary>When a transaction ends (ReadyForQuery says idle and nothing is outstanding).</summary>
    Transaction,

    /// <summary>After every statement; multi-statement transactions are refused.</summary>
    Statement,
}
