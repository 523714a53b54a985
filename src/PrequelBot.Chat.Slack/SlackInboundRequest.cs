using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace PrequelBot.Chat.Slack;

/// <summary>Outcome of reading and verifying an inbound Slack request.</summary>
internal enum SlackInboundStatus
{
    Verified,
    TooLarge,
    Unauthorized,
    Malformed,
}

/// <summary>
/// Reads an inbound Slack request safely: at most <see cref="MaxBodyBytes"/> raw bytes, the v0 signature checked over
/// exactly those bytes, and only then form-decoded (never re-encoded). Nothing is parsed before the signature holds.
/// </summary>
internal sealed partial class SlackInboundRequest
{
    /// <summary>Slash commands and clicks are a few KB; anything above this is refused with 413.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private SlackInboundRequest(SlackInboundStatus status, Dictionary<string, StringValues>? form)
    {
        Status = status;
        Form = form ?? [];
    }

    public SlackInboundStatus Status { get; }

    public Dictionary<string, StringValues> Form { get; }

    /// <summary>The single value of <paramref name="field"/>, or null when it is missing, empty or repeated.</summary>
    public string? Field(string field) =>
        Form.TryGetValue(field, out var values) && values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;

    public static async Task<SlackInboundRequest> ReadAsync(HttpRequest request, SlackRequestVerifier verifier, ILogger logger, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return new SlackInboundRequest(SlackInboundStatus.TooLarge, null);
        }

        var body = request.ContentLength is { } length
            ? await ReadExactlyAsync(request.Body, (int)length, cancellationToken).ConfigureAwait(false)
            : await ReadLimitedAsync(request.Body, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return new SlackInboundRequest(SlackInboundStatus.TooLarge, null);
        }

        var verification = verifier.Verify(
            request.Headers[SlackRequestVerifier.TimestampHeader].ToString(),
            request.Headers[SlackRequestVerifier.SignatureHeader].ToString(),
            body);
        if (verification != SlackVerification.Valid)
        {
            LogRejected(logger, request.Path, verification);
            return new SlackInboundRequest(SlackInboundStatus.Unauthorized, null);
        }

        if (!string.Equals(request.ContentType?.Split(';')[0].Trim(), "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return new SlackInboundRequest(SlackInboundStatus.Malformed, null);
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return new SlackInboundRequest(SlackInboundStatus.Malformed, null);
        }

        return new SlackInboundRequest(SlackInboundStatus.Verified, ParseForm(text));
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>
    /// As <see cref="QueryHelpers.ParseQuery(string?)"/> (names case-insensitive, a repeated name keeps every value), into
    /// a dictionary sized for a slash command's dozen fields.
    /// </summary>
    internal static Dictionary<string, StringValues> ParseForm(string text)
    {
        var form = new Dictionary<string, StringValues>(16, StringComparer.OrdinalIgnoreCase);
        foreach (var pair in new QueryStringEnumerable(text))
        {
            var name = pair.DecodeName().ToString();
            var value = pair.DecodeValue().ToString();
            form[name] = form.TryGetValue(name, out var earlier) ? StringValues.Concat(earlier, value) : new StringValues(value);
        }

        return form;
    }

    /// <summary>
    /// A body of a declared length, already checked against <see cref="MaxBodyBytes"/>: one right-sized buffer. The server
    /// holds the body to its Content-Length (a shorter one is a 400 from Kestrel), so no partial body is ever verified.
    /// </summary>
    private static async Task<byte[]?> ReadExactlyAsync(Stream body, int length, CancellationToken cancellationToken)
    {
        var buffer = new byte[length];
        await body.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer;
    }

    /// <summary>The whole body of unknown length (chunked), or null when it is longer than <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadLimitedAsync(Stream body, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused Slack request to {Path}: {Reason}")]
    private static partial void LogRejected(ILogger logger, PathString path, SlackVerification reason);
}
