using System.Collections.Concurrent;

namespace PgGate.Pooling.Sessions;

/// <summary>
/// The reported run-time parameters (ParameterStatus) a connection has, as an immutable, interned set: equal contents
/// give the same instance, so a checkout compares client and server by reference and pays for a real comparison only
/// when something differs.
/// </summary>
internal sealed class ParameterSet : IEquatable<ParameterSet>
{
    // Interning keeps checkouts cheap; a client that sets a unique value per session (e.g. application_name with a pid)
    // must not grow the table without bound, so past this size new sets are simply not interned.
    private const int MaxInterned = 20_000;
    private static readonly ConcurrentDictionary<ParameterSet, ParameterSet> Interned = new();

    private readonly string[] _names;
    private readonly string[] _values;
    private readonly int _hash;

    private ParameterSet(string[] names, string[] values)
    {
        _names = names;
        _values = values;
        var hash = new HashCode();
        for (var i = 0; i < names.Length; i++)
        {
            hash.Add(names[i], StringComparer.Ordinal);
            hash.Add(values[i], StringComparer.Ordinal);
        }

        _hash = hash.ToHashCode();
    }

    public static ParameterSet Empty { get; } = new([], []);

    public int Count => _names.Length;

    public string NameAt(int index) => _names[index];

    public string ValueAt(int index) => _values[index];

    public static ParameterSet Create(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var set = Empty;
        foreach (var (name, value) in parameters)
        {
            set = set.With(name, value);
        }

        return set;
    }

    public string? Get(string name)
    {
        var index = IndexOf(name);
        return index >= 0 ? _values[index] : null;
    }

    /// <summary>The set with <paramref name="name"/> set to <paramref name="value"/> (this instance when nothing changes).</summary>
    public ParameterSet With(string name, string value)
    {
        var index = IndexOf(name);
        if (index >= 0)
        {
            if (string.Equals(_values[index], value, StringComparison.Ordinal))
            {
                return this;
            }

            var values = (string[])_values.Clone();
            values[index] = value;
            return Intern(new ParameterSet(_names, values));
        }

        var insert = ~index;
        var newNames = new string[_names.Length + 1];
        var newValues = new string[_names.Length + 1];
        Array.Copy(_names, newNames, insert);
        Array.Copy(_values, newValues, insert);
        newNames[insert] = name;
        newValues[insert] = value;
        Array.Copy(_names, insert, newNames, insert + 1, _names.Length - insert);
        Array.Copy(_values, insert, newValues, insert + 1, _names.Length - insert);
        return Intern(new ParameterSet(newNames, newValues));
    }

    /// <summary>The canonical spelling of <paramref name="name"/> in this set (GUC names are case-insensitive), or null.</summary>
    public string? FindName(string name)
    {
        foreach (var known in _names)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }

    /// <summary>Parameters the server decides and a client cannot SET: they are reported to the client, never applied.</summary>
    public static bool IsServerOwned(string name) => name is "server_version" or "server_encoding" or "integer_datetimes"
        or "in_hot_standby" or "is_superuser" or "session_authorization" or "scram_iterations";

    public bool Equals(ParameterSet? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other._hash != _hash || other._names.Length != _names.Length)
        {
            return false;
        }

        for (var i = 0; i < _names.Length; i++)
        {
            if (!string.Equals(_names[i], other._names[i], StringComparison.Ordinal)
                || !string.Equals(_values[i], other._values[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as ParameterSet);

    public override int GetHashCode() => _hash;

    private static ParameterSet Intern(ParameterSet set)
    {
        if (Interned.TryGetValue(set, out var existing))
        {
            return existing;
        }

        return Interned.Count < MaxInterned ? Interned.GetOrAdd(set, set) : set;
    }

    private int IndexOf(string name) => Array.BinarySearch(_names, name, StringComparer.Ordinal);
}
