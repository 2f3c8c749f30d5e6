using PgGate.Config.Yaml;

namespace PgGate.Config;

/// <summary>A member as read, with the nodes its identity came from (for errors found after reading).</summary>
internal sealed record MemberDraft(MemberConfig Config, ConfigNode NameNode, ConfigNode HostNode);

/// <summary>A cluster as read, with the nodes cross-checks report against.</summary>
internal sealed record ClusterDraft(ClusterConfig Config, ConfigNode NameNode, IReadOnlyList<MemberDraft> Members, IReadOnlyList<ParsedService> Services);
