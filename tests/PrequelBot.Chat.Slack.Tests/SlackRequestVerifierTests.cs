using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using PrequelBot.Chat.Slack.Tests.Fakes;

namespace PrequelBot.Chat.Slack.Tests;

public class SlackRequestVerifierTests
{
    private const string Secret = "8f742231b10e8888abcd99yyyzzz85a5";
    private const string Timestamp = "1531420618";
    private const string OfficialSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    private const string OfficialBody =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    private static SlackRequestVerifier Verifier(long clockSeconds = 1531420618, string? secret = Secret) =>
        new(new StaticOptions(new SlackOptions { SigningSecret = secret, BotToken = "xoxb-test" }),
            new FixedTimeProvider(DateTimeOffset.FromUnixTimeSeconds(clockSeconds)));

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void Slacks_official_example_is_valid()
    {
        Assert.Equal(362, Bytes(OfficialBody).Length);

        var result = Verifier().Verify(Timestamp, OfficialSignature, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.Valid, result);
    }

    [Fact]
    public void Official_body_with_the_next_second_matches_local_vector_A()
    {
        var signature = SlackRequestVerifier.ComputeSignature(Secret, "1531420619", Bytes(OfficialBody));

        Assert.Equal("v0=ffbf8ca586db401fa71716579fba59aea718787d68572406a7236da28a871144", signature);
    }

    [Theory]
    [InlineData("command-b.txt", 408, "f884f71ed97b0e901fa24c9b4aaa72d7936bb8385821f6dc23b2f7ad543ed745", "v0=4af85f6e748d72ab1df724032b0629c87c01b8eccba08be9628782f7639f7f42")]
    [InlineData("click-c.txt", 1329, "f3ede59c4caa51b9ea555203d299afdd94196c9fe57edd64c562aa286a4af72c", "v0=32159cb78dd0a27c19ce2b570961370071c65d4ad485265386eb4c2eb6668cc9")]
    public void Local_fixture_vectors_B_and_C_are_valid(string file, int length, string sha256, string signature)
    {
        var body = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", file));
        Assert.Equal(length, body.Length);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(body)));

        var result = Verifier().Verify(Timestamp, signature, body);

        Assert.Equal(SlackVerification.Valid, result);
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(300)]
    public void A_clock_within_five_minutes_is_accepted(int offsetSeconds)
    {
        var result = Verifier(1531420618 + offsetSeconds).Verify(Timestamp, OfficialSignature, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.Valid, result);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    [InlineData(3600)]
    public void Stale_or_future_timestamp_is_rejected_even_with_a_valid_signature(int offsetSeconds)
    {
        var result = Verifier(1531420618 + offsetSeconds).Verify(Timestamp, OfficialSignature, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.StaleTimestamp, result);
    }

    [Theory]
    [InlineData(null, OfficialSignature)]
    [InlineData(Timestamp, null)]
    [InlineData("", "")]
    public void Missing_headers_are_rejected(string? timestamp, string? signature)
    {
        var result = Verifier().Verify(timestamp, signature, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.MissingHeaders, result);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1531420618.5")]
    [InlineData(" 1531420618")]
    [InlineData("-1531420618")]
    public void Non_numeric_timestamp_is_rejected(string timestamp)
    {
        var result = Verifier().Verify(timestamp, SlackRequestVerifier.ComputeSignature(Secret, timestamp, Bytes(OfficialBody)), Bytes(OfficialBody));

        Assert.Equal(SlackVerification.BadTimestamp, result);
    }

    [Fact]
    public void Body_changed_by_one_byte_is_rejected()
    {
        var body = Bytes(OfficialBody);
        body[^1] ^= 0x01;

        var result = Verifier().Verify(Timestamp, OfficialSignature, body);

        Assert.Equal(SlackVerification.BadSignature, result);
    }

    [Fact]
    public void Forged_signature_with_the_wrong_secret_is_rejected()
    {
        var forged = SlackSigner.Sign("not-the-secret", Timestamp, OfficialBody);

        var result = Verifier().Verify(Timestamp, forged, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.BadSignature, result);
    }

    [Theory]
    [InlineData("v0=A2114D57B48EAC39B9AD189DD8316235A7B4A8D21A10BD27519666489C69B503")]
    [InlineData("v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v0=a2114d57")]
    public void Uppercase_hex_other_versions_and_short_signatures_are_rejected(string signature)
    {
        var result = Verifier().Verify(Timestamp, signature, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.BadSignature, result);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Without_a_configured_secret_every_request_is_rejected(string? secret)
    {
        var result = Verifier(secret: secret).Verify(Timestamp, OfficialSignature, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.NoSecretConfigured, result);
    }

    [Fact]
    public void Test_signer_agrees_with_the_official_vector()
    {
        Assert.Equal(OfficialSignature, SlackSigner.Sign(Secret, Timestamp, OfficialBody));
    }

    private sealed class StaticOptions(SlackOptions value) : IOptionsMonitor<SlackOptions>
    {
        public SlackOptions CurrentValue => value;
        public SlackOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<SlackOptions, string?> listener) => null;
    }

    [Theory]
    [InlineData("V0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v0=A2114D57B48EAC39B9AD189DD8316235A7B4A8D21A10BD27519666489C69B503")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5033")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50g")]
    [InlineData("v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503")]
    [InlineData("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504")]
    public void Only_the_exact_lower_case_v0_signature_is_valid(string signature)
    {
        Assert.Equal(SlackVerification.BadSignature, Verifier().Verify(Timestamp, signature, Bytes(OfficialBody)));
    }

    [Fact]
    public void A_zero_padded_timestamp_is_signed_as_sent()
    {
        // Digits only, so it parses; the signed base string holds the header as sent, however long.
        var timestamp = new string('0', 40) + Timestamp;
        var signature = SlackRequestVerifier.ComputeSignature(Secret, timestamp, Bytes(OfficialBody));

        Assert.Equal(SlackVerification.Valid, Verifier().Verify(timestamp, signature, Bytes(OfficialBody)));
        Assert.Equal(SlackVerification.BadSignature, Verifier().Verify(Timestamp, signature, Bytes(OfficialBody)));
    }
}
