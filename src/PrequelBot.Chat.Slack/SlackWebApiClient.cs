using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Slack;

/// <summary>A message Slack accepted: the channel id and the message's <c>ts</c> (an opaque string; never parse it as a number).</summary>
public sealed record SlackPostedMessage(string Channel, string Ts);

/// <summary>One page of messages from a <c>conversations.*</c> read, and the cursor of the next page (null at the end).</summary>
public sealed record SlackMessagePage(IReadOnlyList<JsonObject> Messages, string? NextCursor);

/// <summary>
/// Slack Web API client (https://api.slack.com/web): JSON bodies to <c>{Slack:ApiBaseUrl}{method}</c> with
/// <c>Authorization: Bearer</c> the bot token. Transient failures (5xx, timeouts, <c>internal_error</c>,
/// <c>fatal_error</c>, <c>service_unavailable</c>, <c>request_timeout</c>) are retried a few times by the
/// resilience handler registered in <c>AddSlackChat()</c>. HTTP 429 (or <c>ok:false</c> <c>ratelimited</c>) throws
/// <see cref="ChatDeliveryDelayedException"/> with Slack's <c>Retry-After</c>; any other <c>ok:false</c> throws
/// <see cref="SlackApiException"/>. The token is only ever sent to the API base and never logged.
/// </summary>
public sealed partial class SlackWebApiClient(HttpClient http, IOptionsMonitor<SlackOptions> options, ILogger<SlackWebApiClient> logger)
{
    /// <summary>The named HttpClient (timeouts, retries, no request logging) registered by <c>AddSlackChat</c>.</summary>
    public const string HttpClientName = "SlackWebApi";

    /// <summary>Used when Slack rate-limits without a <c>Retry-After</c> header.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Set on requests whose URL is a credential (a <c>response_url</c> may post into the user's conversation for 30
    /// minutes): tracing records only its scheme and host (docs/operations.md).
    /// </summary>
    public static readonly HttpRequestOptionsKey<bool> SecretUrl = new("PrequelBot.SecretUrl");

    /// <summary>The configured Web API base (ends in <c>/</c>).</summary>
    public Uri ApiBaseUri => options.CurrentValue.ApiBaseUri;

    /// <summary>
    /// <c>chat.postMessage</c>; <paramref name="threadTs"/> posts into a thread, <paramref name="metadata"/> attaches
    /// message metadata (<c>{"event_type", "event_payload"}</c>, https://docs.slack.dev/messaging/message-metadata).
    /// Not idempotent: a retry after a lost answer may post twice (the outbox looks the message up first).
    /// </summary>
    public async Task<SlackPostedMessage> PostMessageAsync(string channel, SlackMessage message, string? threadTs, CancellationToken cancellationToken,
        JsonObject? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = message.ToJson();
        body["channel"] = channel;
        if (threadTs is { Length: > 0 })
        {
            body["thread_ts"] = threadTs;
        }

        if (metadata is not null)
        {
            body["metadata"] = metadata.DeepClone();
        }

        body["unfurl_links"] = false;
        body["unfurl_media"] = false;
        var response = await CallAsync("chat.postMessage", body, cancellationToken).ConfigureAwait(false);
        var ts = response["ts"]?.GetValue<string>() ?? throw new SlackApiException("chat.postMessage", "missing_ts");
        return new SlackPostedMessage(response["channel"]?.GetValue<string>() ?? channel, ts);
    }

    /// <summary><c>chat.update</c>: replaces text and blocks of message <paramref name="ts"/>. Safe to repeat.</summary>
    public async Task UpdateMessageAsync(string channel, string ts, SlackMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = message.ToJson();
        body["channel"] = channel;
        body["ts"] = ts;
        await CallAsync("chat.update", body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>chat.postEphemeral</c>: a message only <paramref name="user"/> sees in <paramref name="channel"/>.</summary>
    public async Task PostEphemeralAsync(string channel, string user, SlackMessage message, string? threadTs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var body = message.ToJson();
        body["channel"] = channel;
        body["user"] = user;
        if (threadTs is { Length: > 0 })
        {
            body["thread_ts"] = threadTs;
        }

        await CallAsync("chat.postEphemeral", body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>conversations.history</c> (Tier 3, needs <c>channels:history</c>/<c>groups:history</c>): one page of the
    /// channel's top-level messages, newest first, from <paramref name="oldest"/> (a ts, inclusive), with their metadata
    /// (<c>include_all_metadata</c>). Sent form-encoded, as Slack's read methods take their arguments.
    /// https://docs.slack.dev/reference/methods/conversations.history
    /// </summary>
    public Task<SlackMessagePage> ConversationHistoryAsync(string channel, string oldest, string? cursor, int limit, CancellationToken cancellationToken) =>
        ReadPageAsync("conversations.history", [new("channel", channel), new("oldest", oldest), new("inclusive", "true")], cursor, limit, cancellationToken);

    /// <summary>
    /// <c>conversations.replies</c> (Tier 3, same scopes): one page of the thread of <paramref name="threadTs"/>, the parent
    /// first, then its replies oldest first, with their metadata. https://docs.slack.dev/reference/methods/conversations.replies
    /// </summary>
    public Task<SlackMessagePage> ConversationRepliesAsync(string channel, string threadTs, string? cursor, int limit, CancellationToken cancellationToken) =>
        ReadPageAsync("conversations.replies", [new("channel", channel), new("ts", threadTs)], cursor, limit, cancellationToken);

    private async Task<SlackMessagePage> ReadPageAsync(string method, List<KeyValuePair<string, string>> arguments, string? cursor, int limit, CancellationToken cancellationToken)
    {
        arguments.Add(new("include_all_metadata", "true"));
        arguments.Add(new("limit", limit.ToString(CultureInfo.InvariantCulture)));
        if (cursor is { Length: > 0 })
        {
            arguments.Add(new("cursor", cursor));
        }

        var response = await CallAsync(method, new FormUrlEncodedContent(arguments), cancellationToken).ConfigureAwait(false);
        var messages = (response["messages"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var next = response["response_metadata"]?["next_cursor"] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
        return new SlackMessagePage(messages, next);
    }

    /// <summary>
    /// POSTs a message to a slash command's or click's <c>response_url</c> (no token is sent). Refuses any URL that
    /// <see cref="SlackResponseUrl.IsAllowed"/> refuses.
    /// </summary>
    public async Task PostToResponseUrlAsync(string responseUrl, JsonObject payload, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (!SlackResponseUrl.IsAllowed(responseUrl, options.CurrentValue.ApiBaseUri))
        {
            throw new SlackApiException("response_url", "response_url_not_allowed");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(responseUrl, UriKind.Absolute))
        {
            Content = Json(payload),
        };
        request.Options.Set(SecretUrl, true);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        ThrowIfRateLimited("response_url", response);
        if (!response.IsSuccessStatusCode)
        {
            var error = string.Create(CultureInfo.InvariantCulture, $"http_{(int)response.StatusCode}");
            LogFailed(logger, "response_url", error);
            throw new SlackApiException("response_url", error);
        }
    }

    /// <summary>
    /// <c>apps.connections.open</c> (https://docs.slack.dev/reference/methods/apps.connections.open) with the app-level
    /// token <c>Slack:AppToken</c>: a fresh single-use WebSocket URL for Socket Mode. The URL carries a ticket: it is a
    /// credential and is never logged.
    /// </summary>
    public async Task<Uri> OpenSocketModeConnectionAsync(CancellationToken cancellationToken)
    {
        var appToken = options.CurrentValue.AppToken;
        if (string.IsNullOrWhiteSpace(appToken))
        {
            throw new InvalidOperationException("Socket Mode is not configured: set Slack:AppToken.");
        }

        var response = await CallAsync("apps.connections.open", [], cancellationToken, appToken).ConfigureAwait(false);
        var url = (response["url"] as JsonValue)?.ToString();
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !SlackOptions.IsAllowedSocketUri(uri, options.CurrentValue.ApiBaseUri))
        {
            LogFailed(logger, "apps.connections.open", "invalid_url");
            throw new SlackApiException("apps.connections.open", "invalid_url");
        }

        return uri;
    }

    private Task<JsonObject> CallAsync(string method, JsonObject body, CancellationToken cancellationToken, string? token = null) =>
        CallAsync(method, Json(body), cancellationToken, token);

    private async Task<JsonObject> CallAsync(string method, HttpContent content, CancellationToken cancellationToken, string? token = null)
    {
        var settings = options.CurrentValue;
        token ??= settings.BotToken;
        if (string.IsNullOrWhiteSpace(token))
        {
            throw new InvalidOperationException("Slack is not configured: set Slack:BotToken.");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(settings.ApiBaseUri, method)) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        ThrowIfRateLimited(method, response);
        if (!response.IsSuccessStatusCode)
        {
            var status = string.Create(CultureInfo.InvariantCulture, $"http_{(int)response.StatusCode}");
            LogFailed(logger, method, status);
            throw new SlackApiException(method, status);
        }

        JsonObject? result;
        try
        {
            result = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)) as JsonObject;
        }
        catch (JsonException)
        {
            result = null;
        }

        if (result is null)
        {
            LogFailed(logger, method, "invalid_response");
            throw new SlackApiException(method, "invalid_response");
        }

        if (result["ok"] is JsonValue ok && ok.TryGetValue<bool>(out var isOk) && isOk)
        {
            if (result["warning"] is JsonValue warning && warning.TryGetValue<string>(out var warningText))
            {
                LogWarning(logger, method, warningText);
            }

            return result;
        }

        var error = (result["error"] as JsonValue)?.ToString() ?? "unknown_error";
        if (error is "ratelimited" or "rate_limited")
        {
            LogRateLimited(logger, method, DefaultRetryAfter);
            throw new ChatDeliveryDelayedException(DefaultRetryAfter, $"Slack {method} is rate limited.");
        }

        LogFailed(logger, method, error);
        throw new SlackApiException(method, error);
    }

    private void ThrowIfRateLimited(string method, HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.TooManyRequests)
        {
            return;
        }

        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => DefaultRetryAfter,
        };
        LogRateLimited(logger, method, retryAfter);
        throw new ChatDeliveryDelayedException(retryAfter, $"Slack {method} is rate limited; retry after {retryAfter.TotalSeconds:0} s.");
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Method} failed with {Error}")]
    private static partial void LogFailed(ILogger logger, string method, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack {Method} answered with warning {Warning}")]
    private static partial void LogWarning(ILogger logger, string method, string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Method} is rate limited; retry after {RetryAfter}")]
    private static partial void LogRateLimited(ILogger logger, string method, TimeSpan retryAfter);
}
