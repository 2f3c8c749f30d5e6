namespace PgGate.Sandbox;

/// <summary>How <see cref="LocalMember.RejoinAsReplicaAsync"/> brought a member back.</summary>
public enum RejoinMethod
{
    /// <summary>pg_rewind rewound the member's data directory to the new primary's history (or found it already on it).</summary>
    Rewind,

    /// <summary>pg_rewind could not, so the data directory was cloned again with pg_basebackup.</summary>
    Reclone,
}
