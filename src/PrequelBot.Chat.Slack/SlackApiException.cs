namespace PrequelBot.Chat.Slack;

/// <summary>
/// Slack answered <c>ok:false</c> with an error that retrying will not fix (e.g. <c>not_in_channel</c>,
/// <c>invalid_auth</c>, <c>message_not_found</c>). Carries the method and Slack's error code; never the token.
/// </summary>
public sealed class SlackApiException(string method, string error)
    : Exception($"Slack {method} failed: {error}")
{
    public string Method { get; } = method;
    public string Error { get; } = error;
}
