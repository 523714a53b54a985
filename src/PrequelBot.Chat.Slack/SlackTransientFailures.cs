using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// What the Slack HTTP pipeline retries: transport errors, attempt timeouts, 5xx, and HTTP 200 answers with
/// <c>ok:false</c> and <c>internal_error</c>, <c>fatal_error</c>, <c>service_unavailable</c> or <c>request_timeout</c>.
/// Never 429 or <c>ratelimited</c>: those go back to the outbox with Slack's Retry-After.
/// </summary>
internal static class SlackTransientFailures
{
    private static readonly HashSet<string> TransientErrors =
        new(["internal_error", "fatal_error", "service_unavailable", "request_timeout"], StringComparer.Ordinal);

    public static HttpRetryStrategyOptions RetryOptions() => new()
    {
        MaxRetryAttempts = 3,
        Delay = TimeSpan.FromMilliseconds(300),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldRetryAfterHeader = false,
        ShouldHandle = args => ShouldRetryAsync(args.Outcome, args.Context.CancellationToken),
    };

    public static async ValueTask<bool> ShouldRetryAsync(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken)
    {
        if (outcome.Exception is HttpRequestException or TimeoutRejectedException)
        {
            return true;
        }

        if (outcome.Result is not { } response)
        {
            return false;
        }

        if ((int)response.StatusCode >= 500)
        {
            return true;
        }

        if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return false;
        }

        // Buffer so the client can still read the body when this answer is final.
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return document.RootElement.ValueKind == JsonValueKind.Object
                   && document.RootElement.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.False
                   && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String
                   && TransientErrors.Contains(error.GetString()!);
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
