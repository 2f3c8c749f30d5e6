using PgGate.Protocol.Auth;

namespace PgGate.Tests.Protocol;

public class Md5PasswordTests
{
    // Both values were computed by PostgreSQL 15:
    //   select 'md5'||md5('secret'||'bob');
    //   select 'md5'||md5(convert_to(md5('secret'||'bob'),'UTF8') || '\x01020304'::bytea);
    private const string StoredBob = "md521f3163f8f86fa10bdefbfbd502a8f06";
    private const string SaltedBob = "md5f21dfe33ff3a9e03dbc3e008251fe5cc";
    private static readonly byte[] Salt = [1, 2, 3, 4];

    [Fact]
    public void HashForStorage_matches_PostgreSQL()
    {
        Assert.Equal(StoredBob, Md5Password.HashForStorage("bob", "secret"));
    }

    [Fact]
    public void Compute_matches_PostgreSQL_for_a_salt()
    {
        Assert.Equal(SaltedBob, Md5Password.Compute("bob", "secret", Salt));
    }

    [Fact]
    public void ComputeFromStoredHash_needs_no_password_and_accepts_uppercase_hex()
    {
        Assert.Equal(SaltedBob, Md5Password.ComputeFromStoredHash(StoredBob, Salt));
        Assert.Equal(SaltedBob, Md5Password.ComputeFromStoredHash("md5" + StoredBob[3..].ToUpperInvariant(), Salt));
    }

    [Fact]
    public void Verify_accepts_the_right_response_only()
    {
        Assert.True(Md5Password.Verify(SaltedBob, StoredBob, Salt));
        Assert.False(Md5Password.Verify(SaltedBob, StoredBob, [1, 2, 3, 5]));
        Assert.False(Md5Password.Verify(Md5Password.Compute("bob", "Secret", Salt), StoredBob, Salt));
        Assert.False(Md5Password.Verify("", StoredBob, Salt));
    }

    [Theory]
    [InlineData("md521f3163f8f86fa10bdefbfbd502a8f06", true)]
    [InlineData("md521f3163f8f86fa10bdefbfbd502a8f0", false)]
    [InlineData("md521f3163f8f86fa10bdefbfbd502a8f0g", false)]
    [InlineData("SCRAM-SHA-256$4096:x$y:z", false)]
    [InlineData(null, false)]
    public void IsMd5Hash_recognises_the_stored_form(string? text, bool expected)
    {
        Assert.Equal(expected, Md5Password.IsMd5Hash(text));
    }

    [Fact]
    public void A_malformed_stored_hash_or_salt_is_an_argument_error()
    {
        Assert.Throws<ArgumentException>(() => Md5Password.ComputeFromStoredHash("md5xyz", Salt));
        Assert.Throws<ArgumentException>(() => Md5Password.ComputeFromStoredHash(StoredBob, [1, 2, 3]));
    }
}
