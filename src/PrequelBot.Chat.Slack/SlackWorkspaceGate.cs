using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// <c>Slack:AllowedTeamIds</c> (docs/security.md, "Tenancy"): a verified request is served only when its workspace
/// (<c>team_id</c>) or Enterprise Grid org (<c>enterprise_id</c>) is listed. A refused request gets
/// <see cref="RefusalText"/> as one ephemeral line and nothing else happens. Empty list: every workspace that holds the
/// app (a start-up warning). Asked by <see cref="SlackInboundHandler"/> on already-verified, already-parsed fields, so
/// HTTP requests and Socket Mode envelopes get the same answer.
/// </summary>
public sealed partial class SlackWorkspaceGate(IOptions<SlackOptions> options, ILogger<SlackWorkspaceGate> logger)
{
    public const string RefusalText = "PrequelBot does not serve this Slack workspace; nothing was done. Ask the bot's operators to add it to Slack:AllowedTeamIds.";

    private readonly HashSet<string> _allowed = new(
        options.Value.AllowedTeamIds.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => t.Trim()), StringComparer.Ordinal);

    /// <summary>True when no list is set or <paramref name="teamId"/> or <paramref name="enterpriseId"/> is in it.</summary>
    public bool Allows(string? teamId, string? enterpriseId)
    {
        if (_allowed.Count == 0) return true;
        if (teamId is { Length: > 0 } && _allowed.Contains(teamId)) return true;
        if (enterpriseId is { Length: > 0 } && _allowed.Contains(enterpriseId)) return true;
        LogRefused(logger, teamId ?? "(none)", enterpriseId ?? "(none)");
        return false;
    }

    /// <summary>
    /// The workspace of a verified form: a slash command's <c>team_id</c>/<c>enterprise_id</c> fields, or an interaction
    /// payload's <c>team.id</c> (else <c>user.team_id</c>) and <c>enterprise.id</c>.
    /// </summary>
    public bool Allows(Func<string, string?> field)
    {
        ArgumentNullException.ThrowIfNull(field);
        var team = field("team_id");
        var enterprise = field("enterprise_id");
        if (field("payload") is { } payload)
        {
            try
            {
                using var document = JsonDocument.Parse(payload);
                var root = document.RootElement;
                team ??= Id(root, "team") ?? Nested(root, "user", "team_id");
                enterprise ??= Id(root, "enterprise");
            }
            catch (JsonException)
            {
                // Unreadable: no workspace is named, so a set list refuses it; the endpoint answers 400 when the list is empty.
            }
        }
        return Allows(team, enterprise);
    }

    private static string? Id(JsonElement root, string name) => Nested(root, name, "id");

    private static string? Nested(JsonElement root, string name, string property) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var o) && o.ValueKind == JsonValueKind.Object &&
        o.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()
            : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a Slack request from workspace {TeamId} (enterprise {EnterpriseId}): not in Slack:AllowedTeamIds")]
    private static partial void LogRefused(ILogger logger, string teamId, string enterpriseId);
}
