using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Retry settings of the Connector client (429, 412, 500, 502, 503, 504: exponential back-off with jitter, honouring
/// Retry-After). Not a configuration section: tests shorten the delays with <c>services.Configure&lt;TeamsConnectorRetryOptions&gt;</c>.
/// </summary>
public sealed class TeamsConnectorRetryOptions
{
    public int MaxRetryAttempts { get; set; } = 3;
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>A Retry-After longer than this is not waited for: the call fails with <see cref="ChatDeliveryDelayedException"/>.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(20);
}

/// <summary>A Connector call failed for good (not throttling). Carries the status and the Connector's error code, never the token.</summary>
public sealed class TeamsConnectorException(HttpStatusCode status, string? errorCode, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
    public string? ErrorCode { get; } = errorCode;
}

/// <summary>
/// The Bot Connector REST calls (spec teams.md §3): send, reply and update. Ids are URL-escaped; the serviceUrl is the
/// one stored from an authenticated activity. Transient failures are retried by the HTTP pipeline; a Connector 401 refreshes
/// the token once; an exhausted 429 throws <see cref="ChatDeliveryDelayedException"/>.
/// </summary>
internal sealed partial class ConnectorClient(
    IHttpClientFactory httpClientFactory, ConnectorTokenProvider tokens, ConversationSendLimiter limiter, ILogger<ConnectorClient> logger)
{
    public const string HttpClientName = "PrequelBot.Teams.Connector";
    private static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(30);

    /// <summary>POST v3/conversations/{id}/activities; returns the new activity id.</summary>
    public Task<string> SendAsync(string serviceUrl, string conversationId, JsonObject activity, CancellationToken cancellationToken) =>
        SendRequiringIdAsync(HttpMethod.Post, conversationId, ActivitiesUri(serviceUrl, conversationId, null), activity, cancellationToken);

    /// <summary>POST v3/conversations/{id}/activities/{activityId}; returns the new activity id.</summary>
    public Task<string> ReplyAsync(string serviceUrl, string conversationId, string activityId, JsonObject activity, CancellationToken cancellationToken) =>
        SendRequiringIdAsync(HttpMethod.Post, conversationId, ActivitiesUri(serviceUrl, conversationId, activityId), activity, cancellationToken);

    /// <summary>PUT v3/conversations/{id}/activities/{activityId}: replaces the activity. Safe to repeat.</summary>
    public async Task UpdateAsync(string serviceUrl, string conversationId, string activityId, JsonObject activity, CancellationToken cancellationToken) =>
        await SendCoreAsync(HttpMethod.Put, conversationId, ActivitiesUri(serviceUrl, conversationId, activityId), activity, cancellationToken).ConfigureAwait(false);

    internal static Uri ActivitiesUri(string serviceUrl, string conversationId, string? activityId)
    {
        if (!TeamsOptions.IsHttpUrl(serviceUrl))
            throw new InvalidOperationException("The Teams serviceUrl is not an absolute http(s) URL.");
        var root = new Uri(serviceUrl.EndsWith('/') ? serviceUrl : serviceUrl + "/");
        var path = $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities";
        if (activityId is not null) path += "/" + Uri.EscapeDataString(activityId);
        return new Uri(root, path);
    }

    private async Task<string> SendRequiringIdAsync(HttpMethod method, string conversationId, Uri uri, JsonObject activity, CancellationToken cancellationToken) =>
        await SendCoreAsync(method, conversationId, uri, activity, cancellationToken).ConfigureAwait(false)
        ?? throw new TeamsConnectorException(HttpStatusCode.OK, null, "The Teams Connector answered without an activity id.");

    private async Task<string?> SendCoreAsync(HttpMethod method, string conversationId, Uri uri, JsonObject activity, CancellationToken cancellationToken)
    {
        var json = activity.ToJsonString(TeamsJson.Options);
        using var slot = await limiter.AcquireAsync(conversationId, cancellationToken).ConfigureAwait(false);
        var http = httpClientFactory.CreateClient(HttpClientName);
        for (var attempt = 1; ; attempt++)
        {
            var token = await tokens.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, uri) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
            if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);

            if (response.IsSuccessStatusCode)
                return await ReadIdAsync(response, cancellationToken).ConfigureAwait(false);

            var code = await ReadErrorCodeAsync(response, cancellationToken).ConfigureAwait(false);
            var correlation = response.Headers.TryGetValues("X-Correlating-OperationId", out var values) ? values.FirstOrDefault() : null;
            LogFailed(logger, method.Method, (int)response.StatusCode, code, correlation);

            if (response.StatusCode == HttpStatusCode.Unauthorized && token is not null && attempt == 1)
            {
                tokens.Invalidate(token);
                continue;
            }
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                throw new ChatDeliveryDelayedException(RetryAfter(response) ?? DefaultDelay, "Teams is throttling this bot; delivery will be retried later.");
            throw new TeamsConnectorException(response.StatusCode, code, $"The Teams Connector answered {(int)response.StatusCode} {code}.");
        }
    }

    internal static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow is { } d && d > TimeSpan.Zero ? d : TimeSpan.Zero;
        return null;
    }

    private static async Task<string?> ReadIdAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(TeamsJson.Options, cancellationToken).ConfigureAwait(false);
            return body.ValueKind == JsonValueKind.Object && body.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<string?> ReadErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(TeamsJson.Options, cancellationToken).ConfigureAwait(false);
            return body.ValueKind == JsonValueKind.Object && body.TryGetProperty("error", out var error) &&
                   error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String
                ? code.GetString() : null;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Teams Connector {Method} answered {Status} {ErrorCode} (operation {CorrelationId})")]
    private static partial void LogFailed(ILogger logger, string method, int status, string? errorCode, string? correlationId);
}
