using System.Globalization;
using System.Text.RegularExpressions;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Engine;

/// <summary>One audit event as <c>audit</c> shows it, and as <c>GET /api/onboardings/{id}/audit</c> returns it.</summary>
/// <param name="At">UTC, ISO 8601.</param>
/// <param name="Platform"><c>slack</c>, <c>msteams</c>, or <c>prequelbot</c> for what the bot did itself.</param>
/// <param name="UserId">The platform's user id; <c>-</c> for the bot.</param>
/// <param name="UserName">The display name chat gave, when it gave one.</param>
/// <param name="Event">What happened (<c>onboarding-requested</c>, <c>approval-requested</c> with the plan, <c>approved</c>, <c>step-started</c>, <c>step-completed</c>, …).</param>
/// <param name="Detail">The step, approval id, plan lines or outcome.</param>
public sealed record AuditLine(string At, string Platform, string UserId, string? UserName, string Event, string? Detail);

/// <summary>Formats the audit trail (docs/workflow.md, "Audit").</summary>
public static partial class AuditLines
{
    public static AuditLine From(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var at = e.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (e.Actor == AuditEvent.System) return new AuditLine(at, AuditEvent.System, "-", null, e.Action, e.Detail);
        // ChatUser.ToString(): "Name (platform:id)" or "platform:id".
        var m = Actor().Match(e.Actor);
        return m.Success
            ? new AuditLine(at, m.Groups["platform"].Value, m.Groups["id"].Value, m.Groups["name"].Success && m.Groups["name"].Length > 0 ? m.Groups["name"].Value : null, e.Action, e.Detail)
            : new AuditLine(at, "-", e.Actor, null, e.Action, e.Detail);
    }

    public static string Line(AuditEvent e)
    {
        var l = From(e);
        return $"{l.At} {l.Platform} {l.UserId}{(l.UserName is null ? "" : $" ({l.UserName})")} {l.Event}{(l.Detail is null ? "" : $": {l.Detail}")}";
    }

    [GeneratedRegex(@"^(?:(?<name>.*) \()?(?<platform>[a-z]+):(?<id>[^\s()]+)\)?$")]
    private static partial Regex Actor();
}
