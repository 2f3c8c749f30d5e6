namespace PgGate.Pooling.Ini;

/// <summary>
/// One PgBouncer <c>[pgbouncer]</c> setting that PgGate maps onto <see cref="PoolerSettings"/>: how it is parsed, shown
/// (SHOW CONFIG) and whether the admin console's SET may change it at run time.
/// </summary>
public sealed class PoolerSettingKey
{
    private readonly Func<PoolerSettings, string> _format;
    private readonly Func<PoolerSettings, string, PoolerSettings> _apply;

    internal PoolerSettingKey(
        string name, string expectedForm, bool changeable, Func<PoolerSettings, string> format, Func<PoolerSettings, string, PoolerSettings> apply)
    {
        Name = name;
        ExpectedForm = expectedForm;
        Changeable = changeable;
        _format = format;
        _apply = apply;
    }

    /// <summary>PgBouncer's name, e.g. <c>default_pool_size</c>.</summary>
    public string Name { get; }

    /// <summary>What a valid value looks like, for error messages ("a whole number ≥ 0", "seconds", ...).</summary>
    public string ExpectedForm { get; }

    /// <summary>False for settings that only take effect at start (listen_addr, listen_port), as in PgBouncer.</summary>
    public bool Changeable { get; }

    /// <summary>The value as SHOW CONFIG prints it.</summary>
    public string Format(PoolerSettings settings) => _format(settings);

    /// <summary>A copy of <paramref name="settings"/> with this setting parsed from <paramref name="value"/>.</summary>
    /// <exception cref="FormatException">The value is not of <see cref="ExpectedForm"/>.</exception>
    public PoolerSettings Apply(PoolerSettings settings, string value) => _apply(settings, value);
}
