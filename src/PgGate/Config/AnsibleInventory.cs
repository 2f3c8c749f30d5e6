using System.Globalization;
using PgGate.Config.Yaml;

namespace PgGate.Config;

/// <summary>
/// An Ansible YAML inventory as Ansible's <c>yaml</c> inventory plugin reads it: groups with <c>hosts</c>, <c>vars</c> and
/// nested <c>children</c> (top-level groups become children of <c>all</c>), hosts in the order they first appear (the
/// order of <c>hostvars</c>), and variables merged with Ansible's precedence: groups sorted by depth, then
/// <c>ansible_group_priority</c>, then name, each overriding the previous, and host variables over all of them.
/// </summary>
internal sealed class AnsibleInventory
{
    public const string AllGroup = "all";

    private readonly Dictionary<string, Group> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Host> _hostsByName = new(StringComparer.Ordinal);
    private readonly List<Host> _hosts = [];
    private readonly List<string> _warnings;

    private AnsibleInventory(List<string> warnings)
    {
        _warnings = warnings;
        GetOrAddGroup(AllGroup, null);
    }

    internal sealed class Group(string name)
    {
        public string Name { get; } = name;
        public ConfigNode? Node { get; set; }
        public Dictionary<string, ConfigNode> Vars { get; } = new(StringComparer.Ordinal);
        public List<Group> Children { get; } = [];
        public List<Group> Parents { get; } = [];
        public List<Host> Hosts { get; } = [];
        public int Depth { get; set; } = -1;
        public int Priority { get; set; } = 1;
    }

    internal sealed class Host(string name, ConfigNode keyNode)
    {
        public string Name { get; } = name;

        /// <summary>Where the host first appears.</summary>
        public ConfigNode KeyNode { get; } = keyNode;

        public Dictionary<string, ConfigNode> Vars { get; } = new(StringComparer.Ordinal);
        public List<Group> Groups { get; } = [];
    }

    /// <summary>Hosts in the order they first appear in the file.</summary>
    public IReadOnlyList<Host> Hosts => _hosts;

    public Group? FindGroup(string name) => _groups.TryGetValue(name, out var g) ? g : null;

    public static AnsibleInventory Parse(ConfigNode root, List<string> warnings)
    {
        var map = root.AsMap("an Ansible inventory: a mapping with 'all:' (all.children.<cluster>.hosts / vars)");
        if (map.Count == 0)
            throw root.Error("the inventory is empty; expected 'all:' with children, hosts and vars");
        if (map.Contains("plugin"))
            throw map.KeyNode("plugin").Error("this is an inventory plugin configuration, not a YAML inventory; give PgGate the YAML inventory itself");

        var inventory = new AnsibleInventory(warnings);
        foreach (var (name, node) in map.Entries)
            inventory.ParseGroup(name, node);
        inventory.Reconcile();
        return inventory;
    }

    /// <summary>Every host of the group, its child groups included (Ansible's <c>groups['name']</c>).</summary>
    public List<Host> HostsOf(Group group)
    {
        var result = new List<Host>();
        var seen = new HashSet<Host>();
        var visited = new HashSet<Group>();
        Collect(group);
        return result;

        void Collect(Group g)
        {
            if (!visited.Add(g))
                return;
            foreach (var h in g.Hosts)
            {
                if (seen.Add(h))
                    result.Add(h);
            }
            foreach (var c in g.Children)
                Collect(c);
        }
    }

    /// <summary>The host's variables with Ansible's precedence, plus <c>inventory_hostname</c>; values keep their YAML nodes.</summary>
    public Dictionary<string, ConfigNode> MergedVars(Host host)
    {
        var groups = new HashSet<Group>();
        foreach (var g in host.Groups)
            AddWithAncestors(g, groups);
        groups.Add(_groups[AllGroup]);

        var ordered = groups.ToList();
        ordered.Sort(static (a, b) =>
        {
            var c = a.Depth.CompareTo(b.Depth);
            if (c != 0)
                return c;
            c = a.Priority.CompareTo(b.Priority);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

        var merged = new Dictionary<string, ConfigNode>(StringComparer.Ordinal);
        foreach (var g in ordered)
        {
            foreach (var (k, v) in g.Vars)
                merged[k] = v;
        }
        foreach (var (k, v) in host.Vars)
            merged[k] = v;
        return merged;

        static void AddWithAncestors(Group g, HashSet<Group> into)
        {
            if (!into.Add(g))
                return;
            foreach (var p in g.Parents)
                AddWithAncestors(p, into);
        }
    }

    private Group GetOrAddGroup(string name, ConfigNode? node)
    {
        if (!_groups.TryGetValue(name, out var group))
            _groups[name] = group = new Group(name);
        group.Node ??= node;
        return group;
    }

    private Group? ParseGroup(string name, ConfigNode node)
    {
        if (!node.IsMap && !node.IsNull)
        {
            _warnings.Add(node.Location + ": " + node.Path + ": skipped: a group must be a mapping with hosts, vars or children (as Ansible skips it)");
            return null;
        }
        var group = GetOrAddGroup(name, node);
        if (node.IsNull)
            return group;

        var map = node.AsMap("a group mapping");
        foreach (var (key, value) in map.Entries)
        {
            if (key is not ("vars" or "children" or "hosts"))
            {
                _warnings.Add(map.KeyNode(key).Location + ": " + value.Path + ": skipped: only vars, children and hosts are valid in a group (as Ansible skips it)");
                continue;
            }
            if (value.IsNull)
                continue;
            if (value.IsScalar && key is "children" or "hosts")
            {
                // Ansible accepts "hosts: 10.10.10.11" as a one-entry mapping.
                if (key == "hosts")
                    AddHost(value.Text, value, group, null);
                else
                    AddChild(group, GetOrAddGroup(value.Text, value), value);
                continue;
            }
            if (!value.IsMap)
                throw value.Expected("a mapping (Ansible requires '" + key + "' of group '" + name + "' to be a dictionary)");

            var section = value.AsMap("a mapping");
            switch (key)
            {
                case "vars":
                    foreach (var (varName, varValue) in section.Entries)
                        SetGroupVar(group, varName, varValue);
                    break;
                case "children":
                    foreach (var (childName, childNode) in section.Entries)
                    {
                        var child = ParseGroup(childName, childNode) ?? GetOrAddGroup(childName, childNode);
                        AddChild(group, child, section.KeyNode(childName));
                    }
                    break;
                default:
                    foreach (var (pattern, hostNode) in section.Entries)
                        AddHost(pattern, section.KeyNode(pattern), group, hostNode);
                    break;
            }
        }
        return group;
    }

    private static void SetGroupVar(Group group, string name, ConfigNode value)
    {
        if (name != "ansible_group_priority")
        {
            group.Vars[name] = value;
            return;
        }
        // Like Ansible, the priority orders groups and is not itself a variable.
        {
            if (value.ScalarValue() is long l && l is >= int.MinValue and <= int.MaxValue)
                group.Priority = (int)l;
            else if (value.IsScalar && int.TryParse(value.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var p))
                group.Priority = p;
            else
                throw value.Expected("an integer priority");
        }
    }

    private void AddHost(string pattern, ConfigNode keyNode, Group group, ConfigNode? varsNode)
    {
        if (pattern.Contains('[', StringComparison.Ordinal))
        {
            throw keyNode.Error("host pattern '" + pattern + "' uses a range or brackets, which PgGate does not expand; list the hosts one by one");
        }
        var name = pattern;
        var colon = pattern.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && colon == pattern.LastIndexOf(':') && pattern[(colon + 1)..].All(char.IsAsciiDigit) && colon < pattern.Length - 1)
        {
            // "host:2222" is Ansible's SSH port shorthand; the host is still "host".
            name = pattern[..colon];
        }

        if (!_hostsByName.TryGetValue(name, out var host))
        {
            host = new Host(name, keyNode);
            _hostsByName[name] = host;
            _hosts.Add(host);
        }
        if (!group.Hosts.Contains(host))
            group.Hosts.Add(host);
        if (!host.Groups.Contains(group))
            host.Groups.Add(group);

        if (varsNode is not { } vars || vars.IsNull)
            return;
        var map = vars.AsMap("the host's variables as a mapping, e.g. { pg_seq: 1, pg_role: primary }");
        foreach (var (k, v) in map.Entries)
            host.Vars[k] = v;
    }

    private static void AddChild(Group parent, Group child, ConfigNode where)
    {
        if (parent == child || IsAncestor(child, parent))
            throw where.Error("adding group '" + child.Name + "' as a child of '" + parent.Name + "' creates a loop of groups");
        if (!parent.Children.Contains(child))
            parent.Children.Add(child);
        if (!child.Parents.Contains(parent))
            child.Parents.Add(parent);

        static bool IsAncestor(Group candidate, Group of)
        {
            foreach (var p in of.Parents)
            {
                if (p == candidate || IsAncestor(candidate, p))
                    return true;
            }
            return false;
        }
    }

    private void Reconcile()
    {
        var all = _groups[AllGroup];
        foreach (var group in _groups.Values)
        {
            if (group != all && group.Parents.Count == 0)
                AddChild(all, group, group.Node ?? default);
        }
        all.Depth = 0;
        foreach (var group in _groups.Values)
            DepthOf(group);

        static int DepthOf(Group g)
        {
            if (g.Depth >= 0)
                return g.Depth;
            var depth = 0;
            foreach (var p in g.Parents)
                depth = Math.Max(depth, DepthOf(p) + 1);
            g.Depth = depth;
            return depth;
        }
    }
}
