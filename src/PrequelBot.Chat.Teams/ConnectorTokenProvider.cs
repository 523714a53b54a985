using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Client-credentials tokens for the Bot Connector (spec teams.md §3), cached until 5 minutes before expiry with a
/// single refresh in flight. Returns <c>null</c> in development mode (empty AppId): outbound calls then carry no token.
/// Never logs the token or the AppPassword.
/// </summary>
internal sealed partial class ConnectorTokenProvider(
    IHttpClientFactory httpClientFactory, IOptions<TeamsOptions> options, TimeProvider time, ILogger<ConnectorTokenProvider> logger) : IDisposable
{
    public const string HttpClientName = "PrequelBot.Teams.Token";
    public const string Scope = "https://api.botframework.com/.default";
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private CachedToken? _cached;

    public async Task<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.AppId)) return null;
        if (string.IsNullOrWhiteSpace(o.AppPassword))
            throw new InvalidOperationException("Teams is not configured: set Teams:AppPassword to send messages.");

        if (Fresh(_cached) is { } token) return token;
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Fresh(_cached) is { } again) return again;
            var fetched = await FetchAsync(o, cancellationToken).ConfigureAwait(false);
            _cached = fetched;
            return fetched.Value;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Forgets <paramref name="token"/> after the Connector refused it, so the next call fetches a new one.</summary>
    public void Invalidate(string? token)
    {
        var cached = _cached;
        if (token is not null && cached is not null && cached.Value == token)
            Interlocked.CompareExchange(ref _cached, null, cached);
    }

    public void Dispose() => _refresh.Dispose();

    private string? Fresh(CachedToken? token) =>
        token is not null && time.GetUtcNow() < token.ExpiresAt - Margin ? token.Value : null;

    private async Task<CachedToken> FetchAsync(TeamsOptions o, CancellationToken cancellationToken)
    {
        using var body = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = o.AppId!,
            ["client_secret"] = o.AppPassword!,
            ["scope"] = Scope,
        });
        var http = httpClientFactory.CreateClient(HttpClientName);
        using var response = await http.PostAsync(new Uri(o.EffectiveTokenEndpoint), body, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            LogTokenFailed(logger, (int)response.StatusCode);
            throw new HttpRequestException($"The Teams token endpoint answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
        var token = await response.Content.ReadFromJsonAsync<TokenResponse>(TeamsJson.Options, cancellationToken).ConfigureAwait(false);
        if (token?.AccessToken is not { Length: > 0 } value)
            throw new HttpRequestException("The Teams token endpoint answered without an access_token.");
        var lifetime = TimeSpan.FromSeconds(Math.Clamp(token.ExpiresIn ?? 3600, 0, 86_400));
        LogTokenFetched(logger, (int)lifetime.TotalSeconds);
        return new CachedToken(value, time.GetUtcNow() + lifetime);
    }

    private sealed record CachedToken(string Value, DateTimeOffset ExpiresAt);

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_in")] int? ExpiresIn);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fetched a Teams Connector token valid for {LifetimeSeconds} s")]
    private static partial void LogTokenFetched(ILogger logger, int lifetimeSeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Teams token endpoint answered HTTP {Status}")]
    private static partial void LogTokenFailed(ILogger logger, int status);
}
