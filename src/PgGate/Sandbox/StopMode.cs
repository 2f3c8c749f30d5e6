namespace PgGate.Sandbox;

/// <summary>How <c>pg_ctl stop</c> shuts a member down (PostgreSQL's shutdown modes).</summary>
public enum StopMode
{
    /// <summary>Roll back open transactions, disconnect clients, write a shutdown checkpoint: a clean stop.</summary>
    Fast,

    /// <summary>Quit without a checkpoint; the next start runs crash recovery.</summary>
    Immediate,
}
