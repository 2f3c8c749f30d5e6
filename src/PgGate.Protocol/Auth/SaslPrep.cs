using System.Text;

namespace PgGate.Protocol.Auth;

/// <summary>
/// The password preparation SCRAM needs, reduced to what Npgsql does: Unicode NFKC. PostgreSQL's full SASLprep also
/// maps some spaces and removes invisible characters, which only matters for unusual non-ASCII passwords.
/// Under InvariantGlobalization .NET has no normalisation data and returns the string unchanged, which is exact
/// for ASCII and for text that is already NFKC (what keyboards produce for most languages).
/// </summary>
internal static class SaslPrep
{
    internal static string Normalize(string password)
    {
        if (System.Text.Ascii.IsValid(password))
        {
            return password;
        }

        try
        {
            return password.Normalize(NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            // Lone surrogates cannot be normalised; PostgreSQL likewise falls back to the raw password.
            return password;
        }
    }
}
