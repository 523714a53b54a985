using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace PrequelBot.Chat.Teams;

/// <summary>Outcome of inbound authentication: accepted, 401, 403, or 503 when the signing keys cannot be fetched.</summary>
internal enum InboundAuthOutcome { Accepted, Unauthorized, Forbidden, KeysUnavailable }

/// <summary>A validated channel token: the claims the activity must then agree with.</summary>
internal sealed record ChannelToken(string? ServiceUrlClaim, IReadOnlySet<string> Endorsements, bool Anonymous);

/// <summary>
/// Validates the Bot Framework channel→bot JWT (spec teams.md §1): RS256 only, issuer <c>https://api.botframework.com</c>,
/// audience <c>Teams:AppId</c>, 5-minute clock skew, keys from the OpenID metadata's JWKS (refreshed at least every
/// 12 h and once on an unknown <c>kid</c>), then the activity's <c>serviceUrl</c> and the key's endorsements.
/// Has no side effect other than fetching keys.
/// </summary>
internal sealed partial class BotFrameworkAuthenticator
{
    public const string ChannelIssuer = "https://api.botframework.com";
    public const string HttpClientName = "PrequelBot.Teams.OpenId";
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    private readonly TeamsOptions _options;
    private readonly IHostEnvironment _environment;
    private readonly ILogger<BotFrameworkAuthenticator> _logger;
    private readonly ConfigurationManager<OpenIdConnectConfiguration> _metadata;
    private readonly JsonWebTokenHandler _handler = new();
    private static readonly TimeSpan RefreshThrottle = ConfigurationManager<OpenIdConnectConfiguration>.DefaultRefreshInterval;
    private static readonly TimeSpan RefreshWait = TimeSpan.FromSeconds(3);
    private readonly Lock _refreshLock = new();
    private DateTimeOffset _lastRefreshRequest = DateTimeOffset.MinValue;

    public BotFrameworkAuthenticator(IOptions<TeamsOptions> options, IHttpClientFactory httpClientFactory,
        IHostEnvironment environment, ILogger<BotFrameworkAuthenticator> logger)
    {
        _options = options.Value;
        _environment = environment;
        _logger = logger;
        var metadataUrl = new Uri(_options.OpenIdMetadataUrl);
        var retriever = new HttpDocumentRetriever(httpClientFactory.CreateClient(HttpClientName))
        {
            RequireHttps = !metadataUrl.IsLoopback,
        };
        _metadata = new ConfigurationManager<OpenIdConnectConfiguration>(metadataUrl.AbsoluteUri, new OpenIdConnectConfigurationRetriever(), retriever)
        {
            AutomaticRefreshInterval = TimeSpan.FromHours(12),
        };
    }

    /// <summary>Step 1: the bearer token. Anonymous only with an empty AppId in Development.</summary>
    public async Task<(InboundAuthOutcome Outcome, ChannelToken? Token)> ValidateTokenAsync(string? authorization, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(_options.AppId))
        {
            if (_environment.IsDevelopment())
                return (InboundAuthOutcome.Accepted, new ChannelToken(null, new HashSet<string>(), Anonymous: true));
            LogRejected(_logger, "Teams:AppId is not set and the environment is not Development");
            return (InboundAuthOutcome.Unauthorized, null);
        }

        if (!AuthenticationHeaderValue.TryParse(authorization, out var header) ||
            !string.Equals(header.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase) ||
            string.IsNullOrWhiteSpace(header.Parameter))
        {
            LogRejected(_logger, "no bearer token");
            return (InboundAuthOutcome.Unauthorized, null);
        }

        try
        {
            var config = await _metadata.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
            var result = await ValidateAsync(header.Parameter, config).ConfigureAwait(false);
            if (!result.IsValid && result.Exception is SecurityTokenSignatureKeyNotFoundException)
            {
                // New keys may appear at any time: refresh once (throttled) and try again.
                var refreshed = await RefreshKeysAsync(config, cancellationToken).ConfigureAwait(false);
                if (!ReferenceEquals(refreshed, config))
                {
                    config = refreshed;
                    result = await ValidateAsync(header.Parameter, config).ConfigureAwait(false);
                }
            }
            if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
            {
                LogRejected(_logger, result.Exception?.GetType().Name ?? "invalid token");
                return (InboundAuthOutcome.Unauthorized, null);
            }
            var serviceUrl = jwt.TryGetPayloadValue<string>("serviceurl", out var claim) ? claim : null;
            return (InboundAuthOutcome.Accepted, new ChannelToken(serviceUrl, EndorsementsOf(config, jwt.Kid), Anonymous: false));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Metadata unreachable or unreadable: fail closed, but say it is our side (503) so the channel may retry.
            LogMetadataFailed(_logger, ex.GetType().Name, ex);
            return (InboundAuthOutcome.KeysUnavailable, null);
        }
    }

    /// <summary>Step 3: the activity must match the token (<c>serviceurl</c> → 401) and the key must be endorsed for its channel (→ 403).</summary>
    public InboundAuthOutcome CheckActivity(ChannelToken token, Activity activity)
    {
        if (token.Anonymous) return InboundAuthOutcome.Accepted;
        if (token.ServiceUrlClaim is null || activity.ServiceUrl is null ||
            !string.Equals(token.ServiceUrlClaim, activity.ServiceUrl, StringComparison.OrdinalIgnoreCase))
        {
            LogRejected(_logger, "serviceurl claim does not match the activity");
            return InboundAuthOutcome.Unauthorized;
        }
        if (string.IsNullOrEmpty(activity.ChannelId) || !token.Endorsements.Contains(activity.ChannelId))
        {
            LogRejected(_logger, "signing key is not endorsed for the activity's channel");
            return InboundAuthOutcome.Forbidden;
        }
        return InboundAuthOutcome.Accepted;
    }

    /// <summary>
    /// Asks the manager for new keys, at most once per <see cref="RefreshThrottle"/> (the manager's own throttle), and
    /// waits briefly for its background refresh (Microsoft.IdentityModel 8 refreshes off the request path).
    /// Returns the configuration in effect afterwards (the same instance when nothing new arrived).
    /// </summary>
    private async Task<OpenIdConnectConfiguration> RefreshKeysAsync(OpenIdConnectConfiguration current, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        lock (_refreshLock)
        {
            if (now - _lastRefreshRequest < RefreshThrottle) return current;
            _lastRefreshRequest = now;
        }
        _metadata.RequestRefresh();
        var deadline = now + RefreshWait;
        var config = current;
        while (ReferenceEquals(config, current) && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            config = await _metadata.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        }
        return config;
    }

    private Task<TokenValidationResult> ValidateAsync(string token, OpenIdConnectConfiguration config) =>
        _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = ChannelIssuer,
            ValidAudience = _options.AppId,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = ClockSkew,
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            IssuerSigningKeys = config.SigningKeys,
            TryAllIssuerSigningKeys = false,
        });

    private static HashSet<string> EndorsementsOf(OpenIdConnectConfiguration config, string? kid)
    {
        var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var key = config.JsonWebKeySet?.Keys.FirstOrDefault(k => string.Equals(k.Kid, kid, StringComparison.Ordinal));
        if (key is null || !key.AdditionalData.TryGetValue("endorsements", out var raw)) return set;
        switch (raw)
        {
            case JsonElement { ValueKind: JsonValueKind.Array } array:
                foreach (var item in array.EnumerateArray())
                    if (item.ValueKind == JsonValueKind.String && item.GetString() is { } s) set.Add(s);
                break;
            case IEnumerable<object> list:
                foreach (var item in list)
                    if (item?.ToString() is { } s) set.Add(s);
                break;
        }
        return set;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Teams activity rejected: {Reason}")]
    private static partial void LogRejected(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Teams signing keys could not be read ({ErrorType}); activity rejected")]
    private static partial void LogMetadataFailed(ILogger logger, string errorType, Exception exception);
}
