using System.Collections.Immutable;

namespace PgGate.Services;

/// <summary>One server of a service in one view: the member, whether it is a backup, whether its check passes.</summary>
public sealed record ServerEntry(ServerState State, bool IsBackup, bool IsUp)
{
    public string Name => State.Name;
}

/// <summary>
/// The servers of a service for one cluster view, in HAProxy order (selector matches, then extra
/// backups), and the ones that take new sessions: every up normal server; when none is up, the first
/// up backup, or every up backup with <c>allbackups</c>.
/// </summary>
public sealed class ServerSet
{
    public static ServerSet Empty { get; } = new([], false, 0);

    public ServerSet(ImmutableArray<ServerEntry> servers, bool allBackups, long viewVersion)
    {
        Servers = servers;
        ViewVersion = viewVersion;
        var usable = ImmutableArray.CreateBuilder<ServerEntry>();
        foreach (var s in servers)
        {
            if (!s.IsBackup && s.IsUp)
                usable.Add(s);
        }
        if (usable.Count == 0)
        {
            foreach (var s in servers)
            {
                if (s.IsBackup && s.IsUp)
                {
                    usable.Add(s);
                    if (!allBackups)
                        break;
                }
            }
            UsingBackups = usable.Count > 0;
        }
        Usable = usable.ToImmutable();
    }

    public ImmutableArray<ServerEntry> Servers { get; }

    /// <summary>Servers that take new sessions now.</summary>
    public ImmutableArray<ServerEntry> Usable { get; }

    /// <summary>True when no normal server is up and backups serve.</summary>
    public bool UsingBackups { get; }

    public long ViewVersion { get; }

    public ServerEntry? Find(string name)
    {
        foreach (var s in Servers)
        {
            if (s.Name == name)
                return s;
        }
        return null;
    }

    public bool IsUsable(ServerState state)
    {
        foreach (var s in Usable)
        {
            if (ReferenceEquals(s.State, state))
                return true;
        }
        return false;
    }
}
