using System.Text.RegularExpressions;

namespace PrequelBot.Workflows.Domain;

/// <summary>
/// One entry of <c>Approvals:Approvers</c> or <c>Approvals:Requesters</c>: a platform and the id on it
/// (docs/security.md, "Identities"). <c>slack:U…</c>/<c>slack:W…</c> and <c>teams:&lt;guid&gt;</c> name their platform;
/// a bare <c>U…</c>/<c>W…</c> is Slack and a bare GUID is Teams. Another adapter's users are written
/// <c>&lt;platform&gt;:&lt;id&gt;</c>. An id only ever matches a user of the same platform.
/// </summary>
public sealed partial record ChatUserId(string Platform, string Id)
{
    [GeneratedRegex("^[UW][A-Z0-9]{2,31}$")]
    private static partial Regex SlackUserId();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,31}$")]
    private static partial Regex PlatformName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")]
    private static partial Regex OtherId();

    /// <summary>Reads one configured entry; null with <paramref name="error"/> (naming the accepted forms) when it is not one.</summary>
    public static ChatUserId? Parse(string? value, out string? error)
    {
        error = null;
        var text = value?.Trim() ?? "";
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            if (SlackUserId().IsMatch(text)) return new(ChatPlatforms.Slack, text);
            if (Guid.TryParse(text, out var guid)) return new(ChatPlatforms.Teams, guid.ToString("D"));
        }
        else
        {
            var platform = text[..colon].ToLowerInvariant();
            var id = text[(colon + 1)..];
            switch (platform)
            {
                case ChatPlatforms.Slack when SlackUserId().IsMatch(id): return new(platform, id);
                case ChatPlatforms.Teams when Guid.TryParse(id, out var guid): return new(platform, guid.ToString("D"));
                case ChatPlatforms.Slack or ChatPlatforms.Teams: break;
                default:
                    if (PlatformName().IsMatch(platform) && OtherId().IsMatch(id)) return new(platform, id);
                    break;
            }
        }
        error = "must be slack:U… (or a bare U…/W… Slack user id) or teams:<AAD object id> (or a bare GUID)";
        return null;
    }

    /// <summary>Whether <paramref name="user"/> is this person: same platform, same id (case-insensitive), and identified.</summary>
    public bool Matches(ChatUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (user.CanOnlyRead || !string.Equals(user.Platform, Platform, StringComparison.Ordinal)) return false;
        return Platform == ChatPlatforms.Teams && Guid.TryParse(user.Id, out var guid)
            ? string.Equals(guid.ToString("D"), Id, StringComparison.OrdinalIgnoreCase)
            : string.Equals(user.Id, Id, StringComparison.OrdinalIgnoreCase);
    }

    public override string ToString() => $"{Platform}:{Id}";
}
