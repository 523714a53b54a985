using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PrequelBot.Chat.Slack.Tests.Fakes;

/// <summary>Signs requests the way Slack does (v0), so tests and whole-host tests can send genuine-looking requests.</summary>
public static class SlackSigner
{
    /// <summary><c>v0=</c> + lowercase hex HMAC-SHA256(secret, <c>v0:{timestamp}:{body}</c>), computed independently of the adapter.</summary>
    public static string Sign(string secret, string timestamp, string body) => Sign(secret, timestamp, Encoding.UTF8.GetBytes(body));

    public static string Sign(string secret, string timestamp, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        var mac = hmac.ComputeHash([.. Encoding.ASCII.GetBytes($"v0:{timestamp}:"), .. body]);
        return "v0=" + Convert.ToHexString(mac).ToLowerInvariant();
    }

    /// <summary>A form-encoded POST signed at <paramref name="at"/> (default: now).</summary>
    public static HttpRequestMessage SignedForm(string path, string secret, string body, DateTimeOffset? at = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)),
        };
        request.Content.Headers.ContentType = new("application/x-www-form-urlencoded");
        request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
        request.Headers.Add("X-Slack-Signature", Sign(secret, timestamp, body));
        return request;
    }

    /// <summary>Form-encodes fields as Slack does (<c>application/x-www-form-urlencoded</c>).</summary>
    public static string Form(params (string Key, string Value)[] fields) =>
        string.Join('&', fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value)));
}
