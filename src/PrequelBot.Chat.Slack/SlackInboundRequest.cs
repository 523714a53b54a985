using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

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

    private SlackInboundRequest(SlackInboundStatus status, string? form)
    {
        Status = status;
        _form = form ?? string.Empty;
    }

    public SlackInboundStatus Status { get; }

    /// <summary>The verified body, form-encoded; fields are decoded when asked for.</summary>
    private readonly string _form;

    /// <summary>A verified request with this form body (tests).</summary>
    internal static SlackInboundRequest FromForm(string form) => new(SlackInboundStatus.Verified, form);

    /// <summary>
    /// The single value of <paramref name="field"/>, or null when it is missing, empty or repeated. Names and values are
    /// read as <see cref="QueryHelpers.ParseQuery(string?)"/> reads them (names case-insensitive), but only the asked-for
    /// value is decoded: a slash command carries a dozen fields and a command reads half of them.
    /// </summary>
    public string? Field(string field)
    {
        string? value = null;
        var seen = false;
        foreach (var pair in new QueryStringEnumerable(_form))
        {
            if (!pair.DecodeName().Span.Equals(field, StringComparison.OrdinalIgnoreCase)) continue;
            if (seen) return null;
            seen = true;
            value = pair.DecodeValue().ToString();
        }

        return string.IsNullOrEmpty(value) ? null : value;
    }

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

        if (!IsFormContentType(request.ContentType))
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

        return new SlackInboundRequest(SlackInboundStatus.Verified, text);
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary><c>application/x-www-form-urlencoded</c>, with or without parameters, in any case.</summary>
    private static bool IsFormContentType(string? contentType)
    {
        var mediaType = contentType.AsSpan();
        var parameters = mediaType.IndexOf(';');
        if (parameters >= 0) mediaType = mediaType[..parameters];
        return mediaType.Trim().Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase);
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
