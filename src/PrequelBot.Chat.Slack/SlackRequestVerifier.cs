using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PrequelBot.Chat.Slack;

/// <summary>Why a request was refused; logged, never shown to the caller beyond a 401.</summary>
public enum SlackVerification
{
    Valid,
    NoSecretConfigured,
    MissingHeaders,
    BadTimestamp,
    StaleTimestamp,
    BadSignature,
}

/// <summary>
/// Verifies Slack's v0 request signature (https://api.slack.com/authentication/verifying-requests-from-slack):
/// HMAC-SHA256 keyed with <c>Slack:SigningSecret</c> over <c>v0:{timestamp}:{raw body}</c>, compared in constant
/// time, with the timestamp within 300 s of <see cref="TimeProvider"/>'s clock. Fails closed without a secret.
/// </summary>
public sealed class SlackRequestVerifier(IOptionsMonitor<SlackOptions> options, TimeProvider clock)
{
    public const string TimestampHeader = "X-Slack-Request-Timestamp";
    public const string SignatureHeader = "X-Slack-Signature";
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(300);

    /// <summary>Checks the headers against the raw body bytes exactly as received.</summary>
    public SlackVerification Verify(string? timestamp, string? signature, ReadOnlySpan<byte> rawBody)
    {
        var secret = options.CurrentValue.SigningSecret;
        if (string.IsNullOrEmpty(secret))
        {
            return SlackVerification.NoSecretConfigured;
        }

        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return SlackVerification.MissingHeaders;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SlackVerification.BadTimestamp;
        }

        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (Math.Abs(now - seconds) > (long)Window.TotalSeconds)
        {
            return SlackVerification.StaleTimestamp;
        }

        var expected = Encoding.ASCII.GetBytes(ComputeSignature(secret, timestamp, rawBody));
        var actual = Encoding.ASCII.GetBytes(signature);
        return CryptographicOperations.FixedTimeEquals(expected, actual)
            ? SlackVerification.Valid
            : SlackVerification.BadSignature;
    }

    /// <summary><c>v0=</c> + lowercase hex of HMAC-SHA256(secret, <c>v0:{timestamp}:{body}</c>).</summary>
    public static string ComputeSignature(string secret, string timestamp, ReadOnlySpan<byte> rawBody)
    {
        byte[] message = [.. Encoding.ASCII.GetBytes($"v0:{timestamp}:"), .. rawBody];
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
        return "v0=" + Convert.ToHexStringLower(mac);
    }
}
