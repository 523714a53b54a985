using Microsoft.Extensions.Options;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// Settings of the Slack adapter (section <c>Slack</c>). Slack is "configured" when both
/// <see cref="SigningSecret"/> and <see cref="BotToken"/> are set; without them every request to
/// <c>/slack/*</c> is refused with 401 (fail closed) and the chat port refuses to send.
/// </summary>
public sealed class SlackOptions
{
    public const string Section = "Slack";
    public const string DefaultApiBaseUrl = "https://slack.com/api/";

    /// <summary>Verifies every inbound request (v0 HMAC-SHA256). Secret: never logged.</summary>
    public string? SigningSecret { get; set; }

    /// <summary><c>xoxb-…</c> bot token for the Web API, sent only as <c>Authorization: Bearer</c> to <see cref="ApiBaseUrl"/>. Secret: never logged.</summary>
    public string? BotToken { get; set; }

    /// <summary>
    /// <c>xapp-…</c> app-level token (scope <c>connections:write</c>). When set, the bot also receives commands and clicks
    /// over Socket Mode (docs/slack-socket-mode.md) and needs no inbound HTTPS; the HTTP endpoints stay available.
    /// Secret: never logged.
    /// </summary>
    public string? AppToken { get; set; }

    /// <summary>Web API base, default <c>https://slack.com/api/</c>; a trailing slash is optional. Override for GovSlack or tests.</summary>
    public string ApiBaseUrl { get; set; } = DefaultApiBaseUrl;

    /// <summary>
    /// Workspace ids (<c>T…</c>) and Enterprise Grid org ids (<c>E…</c>) whose requests are served (docs/security.md,
    /// "Tenancy"). Empty: any workspace that holds the app (a warning at start-up).
    /// </summary>
    public List<string> AllowedTeamIds { get; set; } = [];

    /// <summary>Slack works: a bot token, and a way in (the signing secret for HTTP, or the app token for Socket Mode).</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(BotToken) && (!string.IsNullOrWhiteSpace(SigningSecret) || UsesSocketMode);

    /// <summary>Whether <see cref="AppToken"/> is set, so the bot holds Socket Mode connections.</summary>
    public bool UsesSocketMode => !string.IsNullOrWhiteSpace(AppToken);

    /// <summary>
    /// A Socket Mode URL the bot may dial: <c>wss://</c>, or plain <c>ws://</c> only when the Web API base itself is plain
    /// <c>http://</c> on a loopback host (a local fake in tests).
    /// </summary>
    public static bool IsAllowedSocketUri(Uri uri, Uri apiBase)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(apiBase);
        return uri.Scheme == "wss" || (uri.Scheme == "ws" && apiBase.Scheme == Uri.UriSchemeHttp && apiBase.IsLoopback && uri.IsLoopback);
    }

    /// <summary><see cref="ApiBaseUrl"/> as a URI that ends in <c>/</c>, so <c>new Uri(base, "chat.postMessage")</c> stays under it.</summary>
    public Uri ApiBaseUri
    {
        get
        {
            var text = string.IsNullOrWhiteSpace(ApiBaseUrl) ? DefaultApiBaseUrl : ApiBaseUrl.Trim();
            return new Uri(text.EndsWith('/') ? text : text + "/", UriKind.Absolute);
        }
    }
}

/// <summary>Fails start-up on a present-but-invalid <c>Slack:ApiBaseUrl</c>; missing secrets are fine (not configured).</summary>
internal sealed class SlackOptionsValidator : IValidateOptions<SlackOptions>
{
    public ValidateOptionsResult Validate(string? name, SlackOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.AppToken) && !options.AppToken.Trim().StartsWith("xapp-", StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Fail("Slack:AppToken must be an app-level token (xapp-…) with the connections:write scope.");
        }

        for (var i = 0; i < options.AllowedTeamIds.Count; i++)
        {
            var id = options.AllowedTeamIds[i]?.Trim() ?? "";
            if (id.Length is < 2 or > 32 || id[0] is not ('T' or 'E') || !id.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c)))
            {
                return ValidateOptionsResult.Fail($"Slack:AllowedTeamIds:{i} must be a Slack workspace id (T…) or Enterprise Grid id (E…) (got '{id}').");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ApiBaseUrl))
        {
            return ValidateOptionsResult.Success;
        }

        return Uri.TryCreate(options.ApiBaseUrl.Trim(), UriKind.Absolute, out var uri)
               && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
               && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.Fragment)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Slack:ApiBaseUrl must be an absolute http(s) URL without query or fragment, e.g. https://slack.com/api/");
    }
}
