using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel;

/// <summary>
/// <see cref="IPrequelClient"/> over the named HttpClient <see cref="HttpClientName"/> (headers and base address set
/// at registration, GET retries in its resilience pipeline). Never logs a body, the key or the password.
/// </summary>
public sealed partial class PrequelClient(
    IHttpClientFactory httpClientFactory,
    IOptions<PrequelOptions> options,
    IOptions<PrequelRetryOptions> retry,
    ILogger<PrequelClient> logger) : IPrequelClient
{
    public const string HttpClientName = "Prequel";

    public async Task<IReadOnlyList<PrequelSource>> ListSourcesAsync(CancellationToken cancellationToken)
    {
        var client = CreateClient();
        var baseUri = client.BaseAddress!;
        var next = new Uri(baseUri, PrequelPaths.Sources);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var sources = new List<PrequelSource>();
        for (var page = 1; ; page++)
        {
            if (page > retry.Value.MaxPages)
            {
                throw new StepFailedException($"Prequel listed more than {retry.Value.MaxPages} pages of sources; stopped following next_url.");
            }
            if (!seen.Add(next.AbsoluteUri))
            {
                throw new StepFailedException("Prequel's source list points back to a page already read (next_url loop); stopped.");
            }
            using var response = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Get, next), cancellationToken);
            var envelope = await ReadSuccessAsync(response, "list sources", null, cancellationToken);
            if (envelope["data"]?["sources"] is JsonArray items)
            {
                foreach (var item in items)
                {
                    if (item is JsonObject source && ParseSource(source) is { } parsed)
                    {
                        sources.Add(parsed);
                    }
                }
            }
            var hasNext = envelope["has_next"] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
            var nextUrl = envelope["next_url"] is JsonValue u && u.TryGetValue<string>(out var s) ? s : null;
            if (!hasNext || string.IsNullOrEmpty(nextUrl))
            {
                return sources;
            }
            next = ResolveNext(baseUri, nextUrl);
        }
    }

    public async Task<PrequelSource?> FindByNameAsync(string name, CancellationToken cancellationToken)
    {
        var matches = (await ListSourcesAsync(cancellationToken)).Where(s => string.Equals(s.Name, name, StringComparison.Ordinal)).ToList();
        return matches.Count switch
        {
            0 => null,
            1 => matches[0],
            _ => throw new StepFailedException($"Prequel has {matches.Count} sources named {name} ({string.Join(", ", matches.Select(m => m.Id))}); remove the extra ones or choose another --source-name."),
        };
    }

    public async Task<(PrequelSource Source, bool Created)> EnsureSourceAsync(NewPrequelSource source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        var client = CreateClient();
        var body = PrequelSourceBody.Build(options.Value.ApiVersion, source);
        var maxAttempts = Math.Max(1, retry.Value.MaxAttempts);
        for (var attempt = 1; ; attempt++)
        {
            if (await FindByNameAsync(source.Name, cancellationToken) is { } existing)
            {
                return (existing, false);
            }
            TimeSpan? delay;
            string reason;
            try
            {
                using var response = await client.SendAsync(
                    new HttpRequestMessage(HttpMethod.Post, PrequelPaths.Sources) { Content = JsonContent.Create(body) }, cancellationToken);
                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict || (int)response.StatusCode >= 500)
                {
                    // The POST may have committed (or the name is taken): list again before another POST.
                    reason = $"HTTP {(int)response.StatusCode}: {await ReadMessageAsync(response, source.Password, cancellationToken)}";
                    delay = response.Headers.RetryAfter?.Delta ?? (response.Headers.RetryAfter?.Date - DateTimeOffset.UtcNow);
                }
                else
                {
                    var envelope = await ReadSuccessAsync(response, "create source", source.Password, cancellationToken);
                    var created = ParseSource(envelope["data"]?["source"] as JsonObject ?? new JsonObject(), envelope["data"] as JsonObject)
                        ?? throw new StepFailedException("Prequel created the source but returned no id.");
                    LogCreated(created.Id, source.Name);
                    return (created, true);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException
                                      || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                reason = e is HttpRequestException ? "connection failed" : "timed out";
                delay = null;
            }
            if (attempt >= maxAttempts)
            {
                throw new StepFailedException($"Prequel did not create source {source.Name} after {attempt} attempts ({reason}).");
            }
            var wait = Backoff(attempt, delay);
            LogPostRetry(source.Name, attempt, wait.TotalSeconds);
            await Task.Delay(wait, cancellationToken);
        }
    }

    public async Task<bool> DeleteSourceAsync(string sourceId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceId);
        var client = CreateClient();
        using var response = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Delete, PrequelPaths.Source(sourceId)), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        if (response.StatusCode == HttpStatusCode.NoContent)
        {
            return true;
        }
        await ReadSuccessAsync(response, "delete source", null, cancellationToken);
        return true;
    }

    public async Task UpdatePasswordAsync(string sourceId, string password, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourceId);
        var client = CreateClient();
        var body = PrequelSourceBody.PasswordPatch(options.Value.ApiVersion, password);
        using var response = await SendAsync(client, () => new HttpRequestMessage(HttpMethod.Patch, PrequelPaths.Source(sourceId)) { Content = JsonContent.Create(body) }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw new StepFailedException($"Prequel has no source {sourceId} any more; connect the database again.");
        }
        await ReadSuccessAsync(response, "update source", password, cancellationToken);
    }

    private HttpClient CreateClient()
    {
        if (string.IsNullOrWhiteSpace(options.Value.ApiKey))
        {
            throw new StepFailedException("Prequel is not configured: set Prequel:ApiKey.");
        }
        return httpClientFactory.CreateClient(HttpClientName);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        try
        {
            return await client.SendAsync(request(), cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException
                                  || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new StepFailedException($"Prequel could not be reached ({(e is HttpRequestException ? "connection failed" : "timed out")}).", e);
        }
    }

    private TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var max = retry.Value.MaxDelay;
        if (retryAfter is { } after && after > TimeSpan.Zero)
        {
            return after < max ? after : max;
        }
        var exponential = retry.Value.BaseDelay * Math.Pow(2, attempt - 1);
        var jittered = exponential * (0.8 + (0.4 * Random.Shared.NextDouble()));
        return jittered < max ? jittered : max;
    }

    private Uri ResolveNext(Uri baseUri, string nextUrl)
    {
        if (!Uri.TryCreate(baseUri, nextUrl, out var next) || next.Scheme is not ("http" or "https"))
        {
            throw new StepFailedException("Prequel returned an unusable next_url; stopped listing sources.");
        }
        if (!string.Equals(next.Scheme, baseUri.Scheme, StringComparison.OrdinalIgnoreCase)
            || !string.Equals(next.Host, baseUri.Host, StringComparison.OrdinalIgnoreCase)
            || next.Port != baseUri.Port)
        {
            LogForeignNextUrl(next.Host);
            throw new StepFailedException($"Prequel's next_url points to another host ({next.Host}); refusing to send the API key there.");
        }
        return next;
    }

    private async Task<JsonObject> ReadSuccessAsync(HttpResponseMessage response, string operation, string? password, CancellationToken cancellationToken)
    {
        JsonObject? envelope = null;
        try
        {
            envelope = await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken) as JsonObject;
        }
        catch (JsonException)
        {
            // Not JSON: reported below with the status code.
        }
        var status = envelope?["status"] is JsonValue sv && sv.TryGetValue<string>(out var st) ? st : null;
        if (response.IsSuccessStatusCode && envelope is not null && status == "success")
        {
            return envelope;
        }
        var message = Redact(envelope?["message"] is JsonValue mv && mv.TryGetValue<string>(out var m) ? m : null, password);
        LogFailure(operation, (int)response.StatusCode, status);
        var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
            ? $" Check Prequel:ApiKey (environment: {PrequelEnvironment.FromApiKey(options.Value.ApiKey)})."
            : string.Empty;
        throw new StepFailedException($"Prequel refused to {operation} (HTTP {(int)response.StatusCode}): {message ?? "no message"}.{hint}");
    }

    private async Task<string> ReadMessageAsync(HttpResponseMessage response, string? password, CancellationToken cancellationToken)
    {
        try
        {
            var envelope = await JsonNode.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
            return Redact(envelope?["message"] is JsonValue mv && mv.TryGetValue<string>(out var m) ? m : null, password) ?? "no message";
        }
        catch (JsonException)
        {
            return "no message";
        }
    }

    private string? Redact(string? message, string? password)
    {
        if (message is null)
        {
            return null;
        }
        if (!string.IsNullOrEmpty(options.Value.ApiKey))
        {
            message = message.Replace(options.Value.ApiKey, "[redacted]", StringComparison.Ordinal);
        }
        if (!string.IsNullOrEmpty(password))
        {
            message = message.Replace(password, "[redacted]", StringComparison.Ordinal);
        }
        return message;
    }

    private static PrequelSource? ParseSource(JsonObject source, JsonObject? fallback = null)
    {
        var id = IdOf(source["id"]) ?? IdOf(fallback?["id"]);
        if (id is null)
        {
            return null;
        }
        var name = source["name"] is JsonValue n && n.TryGetValue<string>(out var s) ? s : string.Empty;
        bool? reachable = source["is_reachable"] is JsonValue r && r.TryGetValue<bool>(out var rb) ? rb : null;
        // 2023-12-01 nests the connection under "postgres" (user under "password_auth"); 2022-01-01 has it flat (docs/workflow.md, "Register source").
        var pg = source["postgres"] as JsonObject ?? source;
        return new PrequelSource(id, name, reachable, Text(pg["host"]), pg["port"] is JsonValue pv && pv.TryGetValue<int>(out var port) ? port : null,
            Text(pg["database"]), Text(pg["password_auth"]?["username"]) ?? Text(pg["username"]));
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string? IdOf(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<long>(out var l) => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    [LoggerMessage(LogLevel.Information, "Created Prequel source {SourceId} named {SourceName}")]
    private partial void LogCreated(string sourceId, string sourceName);

    [LoggerMessage(LogLevel.Warning, "POST /sources for {SourceName} failed on attempt {Attempt}; listing again in {DelaySeconds} s")]
    private partial void LogPostRetry(string sourceName, int attempt, double delaySeconds);

    [LoggerMessage(LogLevel.Warning, "Prequel {Operation} failed with HTTP {StatusCode}, status {Status}")]
    private partial void LogFailure(string operation, int statusCode, string? status);

    [LoggerMessage(LogLevel.Warning, "Refused to follow a Prequel next_url on host {Host}")]
    private partial void LogForeignNextUrl(string host);
}
