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

    /// <summary>Web API base, default <c>https://slack.com/api/</c>; a trailing slash is optional. Override for GovSlack or tests.</summary>
    public string ApiBaseUrl { get; set; } = DefaultApiBaseUrl;

    public bool IsConfigured => !string.IsNullOrWhiteSpace(SigningSecret) && !string.IsNullOrWhiteSpace(BotToken);

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
