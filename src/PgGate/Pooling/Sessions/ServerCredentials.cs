using PgGate.Pooling.Auth;
using PgGate.Protocol.Auth;

namespace PgGate.Pooling.Sessions;

/// <summary>How the pooler logs in to a server as <see cref="User"/>: with a stored secret, or with SCRAM keys
/// recovered from a client's own SCRAM exchange (pass-through, so no password needs to be stored).</summary>
internal sealed record ServerCredentials(string User, UserSecret? Secret, ScramKeys? PassThroughKeys);
