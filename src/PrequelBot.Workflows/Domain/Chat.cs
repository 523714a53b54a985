namespace PrequelBot.Workflows.Domain;

/// <summary>Chat platform names used in <see cref="ChatUser.Platform"/> and <see cref="ConversationRef.Platform"/>.</summary>
public static class ChatPlatforms
{
    public const string Slack = "slack";
    public const string Teams = "teams";
}

/// <summary>
/// A person in chat. <see cref="Id"/> is what <c>Approvals:Approvers</c> lists: the Slack user id (<c>U…</c>/<c>W…</c>)
/// or the Teams AAD object id, always together with <see cref="Platform"/> (docs/security.md, "Identities").
/// </summary>
public sealed record ChatUser(string Platform, string Id, string? DisplayName = null)
{
    /// <summary>
    /// True when the platform could not say who this is in a form <c>Approvals</c> can list (a Teams activity without
    /// <c>from.aadObjectId</c>): such a user may read (<c>status</c>, <c>help</c>) but not request, approve, reject,
    /// cancel or retry. Default false, so stored requesters keep their rights.
    /// </summary>
    public bool CanOnlyRead { get; init; }

    public bool IsSamePerson(ChatUser other) =>
        string.Equals(Platform, other.Platform, StringComparison.Ordinal) &&
        string.Equals(Id, other.Id, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => DisplayName is { Length: > 0 } name ? $"{name} ({Platform}:{Id})" : $"{Platform}:{Id}";
}

/// <summary>
/// Where an onboarding's card and prompts go. <see cref="AdapterData"/> is opaque to the workflow: the
/// chat adapter that made it stores whatever it needs to reach the conversation again (a Teams
/// serviceUrl, tenant and bot account, for example). Never put a secret in it.
/// </summary>
public sealed record ConversationRef(string Platform, string ConversationId, string? AdapterData = null);

/// <summary>A message the bot posted, so it can be updated in place later. <see cref="AdapterData"/> is the adapter's own.</summary>
public sealed record ChatMessageRef(string Platform, string ConversationId, string MessageId, string? AdapterData = null);
