using Lineage.Core.Errors;
using Lineage.Core.Governance;

namespace Lineage.Tests.Governance;

/// <summary>The pure parts of field encryption: patterns, envelopes, keyrings.</summary>
public class FieldEnvelopeTests
{
    [Theory]
    [InlineData("password", true)]
    [InlineData("DB_PASSWORD", true)]
    [InlineData("aws.Secret.access", true)]
    [InlineData("hf_token", true)]
    [InlineData("openai_api_key", true)]
    [InlineData("apikey", false)]
    [InlineData("lr", false)]
    [InlineData("tokenizer", true)] // a glob, not a word match: documented
    public void default_patterns_match_case_insensitively_anywhere_in_the_key(string key, bool sensitive) =>
        Assert.Equal(sensitive, SensitiveKeys.Parse(null).Matches(key));

    [Fact]
    public void configured_patterns_replace_the_defaults_and_support_question_marks_and_anchors()
    {
        var keys = SensitiveKeys.Parse("aws_*, pin?, *_cred");
        Assert.True(keys.Matches("AWS_REGION"));
        Assert.True(keys.Matches("pin1"));
        Assert.False(keys.Matches("pin12"));
        Assert.True(keys.Matches("db_cred"));
        Assert.False(keys.Matches("db_cred_x"));
        Assert.False(keys.Matches("password"));
    }

    [Fact]
    public void an_envelope_opens_only_under_its_binding_and_with_its_key()
    {
        var oldKey = Keyring.NewKey();
        var keyring = new Keyring([oldKey]);
        var sealedValue = FieldEnvelope.Seal(keyring, "params/1/password", "hunter2");
        Assert.StartsWith($"enc:v1:{keyring.CurrentId}:", sealedValue);
        Assert.NotEqual(sealedValue, FieldEnvelope.Seal(keyring, "params/1/password", "hunter2")); // fresh nonce each time
        Assert.Equal("hunter2", FieldEnvelope.Open(keyring, "params/1/password", sealedValue));
        Assert.Throws<FieldTamperedException>(() => FieldEnvelope.Open(keyring, "params/2/password", sealedValue));
        Assert.Throws<FieldTamperedException>(() => FieldEnvelope.Open(keyring, "params/1/password", sealedValue[..^2]));
        var other = new Keyring([Keyring.NewKey()]);
        Assert.Equal(keyring.CurrentId, Assert.Throws<FieldKeyMissingException>(() => FieldEnvelope.Open(other, "params/1/password", sealedValue)).KeyId);
        var both = new Keyring([oldKey, Keyring.NewKey()]);
        Assert.Equal("hunter2", FieldEnvelope.Open(both, "params/1/password", sealedValue)); // old keys still open after rotation
    }

    [Fact]
    public void key_text_must_be_base64_of_exactly_256_bits()
    {
        var bad = Assert.Throws<LineageException>(() => Keyring.Parse("not base64!", "LINEAGE_ENCRYPTION_KEY"));
        Assert.Contains("line 1: not base64", bad.Message);
        var shortKey = Assert.Throws<LineageException>(() => Keyring.Parse("# comment\n" + Convert.ToBase64String(new byte[16]), "key file 'k'"));
        Assert.Contains("line 2", shortKey.Message);
        Assert.Contains("16 bytes", shortKey.Message);
        var keys = Keyring.Parse($"{Convert.ToBase64String(new byte[32])}, {Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray())}", "env");
        Assert.Equal(2, keys.Ids.Count);
        Assert.Equal(keys.Ids[1], keys.CurrentId);
    }
}
