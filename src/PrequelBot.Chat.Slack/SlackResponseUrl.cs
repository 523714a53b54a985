namespace PrequelBot.Chat.Slack;

/// <summary>
/// Decides whether a <c>response_url</c> from a request may be posted to: only <c>https</c> on <c>slack.com</c>,
/// <c>*.slack.com</c> (normally <c>hooks.slack.com</c>) or GovSlack's <c>slack-gov.com</c>/<c>*.slack-gov.com</c>;
/// or, for tests and self-hosted fakes, the same scheme, host and port as <c>Slack:ApiBaseUrl</c>. Anything else
/// is refused, so a forged URL can never make the bot send data elsewhere.
/// </summary>
public static class SlackResponseUrl
{
    private static readonly string[] SlackDomains = ["slack.com", "slack-gov.com"];

    public static bool IsAllowed(string? responseUrl, Uri apiBase)
    {
        ArgumentNullException.ThrowIfNull(apiBase);
        if (!Uri.TryCreate(responseUrl, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return false;
        }

        if (uri.Scheme == apiBase.Scheme
            && string.Equals(uri.Host, apiBase.Host, StringComparison.OrdinalIgnoreCase)
            && uri.Port == apiBase.Port)
        {
            return true;
        }

        return uri.Scheme == Uri.UriSchemeHttps
               && uri.IsDefaultPort
               && SlackDomains.Any(domain =>
                   string.Equals(uri.Host, domain, StringComparison.OrdinalIgnoreCase)
                   || uri.Host.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase));
    }
}
