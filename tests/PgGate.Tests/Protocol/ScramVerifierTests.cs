using PgGate.Protocol.Auth;

namespace PgGate.Tests.Protocol;

public class ScramVerifierTests
{
    [Fact]
    public void Parse_and_ToString_round_trip_PostgreSQLs_format()
    {
        const string text =
            "SCRAM-SHA-256$4096:yv9POPJvROBnjKVjoWUo5A==$EbU0iby6zb6Pj9c4mKomfje3pJVbvdub1TfO+VgrveU=:U5KP8awlVeYo/iEKG7Yf3APKfKhWxaE9HFAzGw7K7DE=";

        var verifier = ScramVerifier.Parse(text);

        Assert.Equal(4096, verifier.Iterations);
        Assert.Equal(16, verifier.Salt.Length);
        Assert.Equal(text, verifier.ToString());
    }

    [Fact]
    public void A_non_ASCII_password_gives_the_same_verifier_as_PostgreSQL()
    {
        // CREATE ROLE uni LOGIN PASSWORD 'pässwörd' in PostgreSQL 15 (UTF8), read back from pg_authid.
        const string stored =
            "SCRAM-SHA-256$4096:yv9POPJvROBnjKVjoWUo5A==$EbU0iby6zb6Pj9c4mKomfje3pJVbvdub1TfO+VgrveU=:U5KP8awlVeYo/iEKG7Yf3APKfKhWxaE9HFAzGw7K7DE=";
        var salt = ScramVerifier.Parse(stored).Salt;

        Assert.Equal(stored, ScramVerifier.Create("pässwörd", salt, 4096).ToString());
    }

    [Fact]
    public void Create_uses_a_fresh_16_byte_salt_and_4096_iterations_by_default()
    {
        var a = ScramVerifier.Create("pw");
        var b = ScramVerifier.Create("pw");

        Assert.Equal(4096, a.Iterations);
        Assert.Equal(16, a.Salt.Length);
        Assert.NotEqual(a.Salt, b.Salt);
        Assert.True(a.Matches("pw"));
    }

    [Theory]
    [InlineData(null, "must start with")]
    [InlineData("md5abcdef", "must start with")]
    [InlineData("SCRAM-SHA-256$4096:c2FsdA==", "second '$'")]
    [InlineData("SCRAM-SHA-256$4096c2FsdA==$a:b", "':' is missing")]
    [InlineData("SCRAM-SHA-256$0:c2FsdA==$EbU0iby6zb6Pj9c4mKomfje3pJVbvdub1TfO+VgrveU=:U5KP8awlVeYo/iEKG7Yf3APKfKhWxaE9HFAzGw7K7DE=", "iteration count")]
    [InlineData("SCRAM-SHA-256$-1:c2FsdA==$EbU0iby6zb6Pj9c4mKomfje3pJVbvdub1TfO+VgrveU=:U5KP8awlVeYo/iEKG7Yf3APKfKhWxaE9HFAzGw7K7DE=", "iteration count")]
    [InlineData("SCRAM-SHA-256$4096:***$EbU0iby6zb6Pj9c4mKomfje3pJVbvdub1TfO+VgrveU=:U5KP8awlVeYo/iEKG7Yf3APKfKhWxaE9HFAzGw7K7DE=", "salt")]
    [InlineData("SCRAM-SHA-256$4096:$EbU0iby6zb6Pj9c4mKomfje3pJVbvdub1TfO+VgrveU=:U5KP8awlVeYo/iEKG7Yf3APKfKhWxaE9HFAzGw7K7DE=", "salt")]
    [InlineData("SCRAM-SHA-256$4096:c2FsdA==$c2hvcnQ=:U5KP8awlVeYo/iEKG7Yf3APKfKhWxaE9HFAzGw7K7DE=", "StoredKey")]
    [InlineData("SCRAM-SHA-256$4096:c2FsdA==$EbU0iby6zb6Pj9c4mKomfje3pJVbvdub1TfO+VgrveU=:not base64!", "ServerKey")]
    public void TryParse_explains_what_is_wrong(string? text, string expectedInError)
    {
        Assert.False(ScramVerifier.TryParse(text, out var verifier, out var error));
        Assert.Null(verifier);
        Assert.Contains(expectedInError, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_throws_FormatException_with_the_reason()
    {
        var e = Assert.Throws<FormatException>(() => ScramVerifier.Parse("SCRAM-SHA-256$x:y$z:w"));

        Assert.Contains("iteration count", e.Message, StringComparison.Ordinal);
    }
}
