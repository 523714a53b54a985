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

        return SignatureMatches(Encoding.UTF8.GetBytes(secret), timestamp, signature, rawBody) ? SlackVerification.Valid : SlackVerification.BadSignature;
    }

    /// <summary><c>v0=</c> + lowercase hex of HMAC-SHA256(secret, <c>v0:{timestamp}:{body}</c>).</summary>
    public static string ComputeSignature(string secret, string timestamp, ReadOnlySpan<byte> rawBody)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(Encoding.UTF8.GetBytes(secret), timestamp, rawBody, mac);
        return "v0=" + Convert.ToHexStringLower(mac);
    }

    /// <summary>
    /// The header against the MAC, in constant time over the 32 bytes. The header's hex is decoded rather than the MAC
    /// encoded: an upper-case header is refused (Slack sends lower case) by the strict check below, not by the compare.
    /// </summary>
    private static bool SignatureMatches(byte[] key, string timestamp, string signature, ReadOnlySpan<byte> rawBody)
    {
        const string prefix = "v0=";
        if (signature.Length != prefix.Length + 2 * HMACSHA256.HashSizeInBytes || !signature.StartsWith(prefix, StringComparison.Ordinal)) return false;
        var hex = signature.AsSpan(prefix.Length);
        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigitLower(c)) return false; // [0-9a-f]
        }

        Span<byte> claimed = stackalloc byte[HMACSHA256.HashSizeInBytes];
        if (Convert.FromHexString(hex, claimed, out _, out var written) != System.Buffers.OperationStatus.Done || written != claimed.Length) return false;
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Mac(key, timestamp, rawBody, expected);
        return CryptographicOperations.FixedTimeEquals(expected, claimed);
    }

    /// <summary>HMAC-SHA256 keyed with the secret over <c>v0:{timestamp}:{body}</c> (the timestamp is ASCII digits, checked by the caller).</summary>
    private static void Mac(ReadOnlySpan<byte> key, string timestamp, ReadOnlySpan<byte> rawBody, Span<byte> destination)
    {
        var length = 3 + timestamp.Length + 1 + rawBody.Length;
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var message = rented.AsSpan(0, length);
            "v0:"u8.CopyTo(message);
            Encoding.ASCII.GetBytes(timestamp, message[3..]);
            message[3 + timestamp.Length] = (byte)':';
            rawBody.CopyTo(message[(4 + timestamp.Length)..]);
            HMACSHA256.HashData(key, message, destination);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
