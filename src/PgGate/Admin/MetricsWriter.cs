using System.Globalization;
using System.Text;

namespace PgGate.Admin;

/// <summary>
/// Builds Prometheus text format 0.0.4. Samples may be added in any order; each family is written as
/// one group after its HELP and TYPE lines, as the format requires.
/// </summary>
public sealed class MetricsWriter
{
    private readonly List<(string Name, string Type, string Help, StringBuilder Samples)> _families = [];
    private readonly Dictionary<string, StringBuilder> _byName = [];

    public void Family(string name, string type, string help)
    {
        var samples = new StringBuilder();
        _families.Add((name, type, help, samples));
        _byName[name] = samples;
    }

    public void Sample(string name, ReadOnlySpan<(string Name, string Value)> labels, double value)
    {
        var sb = _byName[name];
        sb.Append(name);
        if (labels.Length > 0)
        {
            sb.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                    sb.Append(',');
                sb.Append(labels[i].Name).Append("=\"");
                Escape(sb, labels[i].Value);
                sb.Append('"');
            }
            sb.Append('}');
        }
        sb.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var (name, type, help, samples) in _families)
        {
            if (samples.Length == 0)
                continue;
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            sb.Append(samples);
        }
        return sb.ToString();
    }

    private static void Escape(StringBuilder sb, string value)
    {
        foreach (var ch in value)
        {
            switch (ch)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(ch); break;
            }
        }
    }
}
