using System.Globalization;
using System.Text;

namespace PgGate.Pooling.Statements;

/// <summary>
/// One distinct protocol-level statement (query text and declared parameter types), under the name the pooler gives it
/// on servers (<c>PGGATE_&lt;id&gt;</c>). Clients that prepare the same text share it, whatever names they use.
/// </summary>
internal sealed class PreparedStatement
{
    public const string NamePrefix = "PGGATE_";

    internal PreparedStatement(long id, byte[] body, int hash)
    {
        Id = id;
        Body = body;
        Hash = hash;
        ServerName = Encoding.ASCII.GetBytes(NamePrefix + id.ToString(CultureInfo.InvariantCulture));
    }

    public long Id { get; }

    /// <summary>The Parse payload after the statement name: query, NUL, parameter count and type OIDs.</summary>
    public byte[] Body { get; }

    public int Hash { get; }

    /// <summary>The statement name used on servers, without the terminating NUL.</summary>
    public byte[] ServerName { get; }

    /// <summary>Clients holding it (under the registry's lock).</summary>
    internal int References { get; set; }

    /// <summary>The next statement with the same hash (under the registry's lock).</summary>
    internal PreparedStatement? NextInBucket { get; set; }

    public string QueryText
    {
        get
        {
            var end = Array.IndexOf(Body, (byte)0);
            return Encoding.UTF8.GetString(Body, 0, end < 0 ? Body.Length : end);
        }
    }
}
