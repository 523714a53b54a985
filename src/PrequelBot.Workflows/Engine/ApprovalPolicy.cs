using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Workflows.Engine;

/// <summary>What a command asks of the person who types it (docs/security.md, "Who may do what").</summary>
public enum CommandAccess
{
    /// <summary>Anyone in an allowed workspace or tenant, even without an identity Approvals can list (<c>status</c>, <c>help</c>).</summary>
    Read,
    /// <summary>Any identified person there (<c>plan</c>, <c>check</c>, <c>audit</c>).</summary>
    Open,
    /// <summary>An identified person in <c>Approvals:Requesters</c> when that is set (<c>connect</c>, <c>retry</c>, <c>rotate</c>, <c>disconnect</c>).</summary>
    Change,
    /// <summary>As <see cref="Change"/>, and an approver may always (<c>cancel</c>).</summary>
    ChangeOrApprover,
}

/// <summary>
/// Who may run which command, who may approve, reject, cancel or retry, and how many approvals a step needs
/// (CONTRACT-level rules in docs/security.md, "Who may do what", and docs/workflow.md, "Approvals"). Ids are matched with
/// their platform (<see cref="ChatUserId"/>): a Slack id never matches a Teams user, nor the reverse.
/// </summary>
public sealed class ApprovalPolicy(IOptionsMonitor<ApprovalOptions> options)
{
    /// <summary>
    /// What each command needs, by its name (the first word). A command not listed needs <see cref="CommandAccess.Change"/>:
    /// new commands are closed until they are listed here.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, CommandAccess> Commands = new Dictionary<string, CommandAccess>(StringComparer.Ordinal)
    {
        ["help"] = CommandAccess.Read,
        ["status"] = CommandAccess.Read,
        ["plan"] = CommandAccess.Open,
        ["check"] = CommandAccess.Open,
        ["audit"] = CommandAccess.Open,
        ["connect"] = CommandAccess.Change,
        ["retry"] = CommandAccess.Change,
        ["rotate"] = CommandAccess.Change,
        ["disconnect"] = CommandAccess.Change,
        ["cancel"] = CommandAccess.ChangeOrApprover,
    };

    /// <summary>What <paramref name="command"/> needs; unknown names need <see cref="CommandAccess.Change"/>.</summary>
    public static CommandAccess AccessOf(string command) =>
        Commands.TryGetValue(command, out var access) ? access : CommandAccess.Change;

    /// <summary>
    /// Null when <paramref name="actor"/> may run <paramref name="command"/> (its name, e.g. <c>connect</c>); else a
    /// one-line reason. Checked before the command does anything, so a refusal changes nothing. Per-onboarding rules
    /// (<see cref="WhyNotAllowedToManage"/>) come on top for <c>cancel</c> and <c>retry</c>.
    /// </summary>
    public string? WhyNotAllowedToRun(ChatUser actor, string command)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(command);
        var access = AccessOf(command);
        if (access == CommandAccess.Read) return null;
        if (actor.CanOnlyRead)
            return $"Not allowed: PrequelBot cannot tell who you are here (no Entra ID object id), so you can only use status and help; {command} needs a signed-in account.";
        if (access == CommandAccess.Open) return null;
        if (access == CommandAccess.ChangeOrApprover && IsApprover(actor)) return null;
        return IsRequester(actor)
            ? null
            : $"Not allowed: you are not in Approvals:Requesters, so you cannot {command}; plan, status, check, audit and help are open to you.";
    }

    /// <summary>Null when <paramref name="actor"/> may decide a prompt of an onboarding requested by <paramref name="requester"/>; else why not.</summary>
    public string? WhyNotAllowedToDecide(ChatUser actor, ChatUser requester)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(requester);
        var current = options.CurrentValue;
        if (actor.CanOnlyRead)
            return "Not allowed: PrequelBot cannot tell who you are here (no Entra ID object id), so you cannot approve or reject.";
        if (!IsApprover(actor))
            return "Not allowed: you are not in Approvals:Approvers, so you cannot approve or reject PrequelBot changes.";
        if (!current.AllowSelfApproval && actor.IsSamePerson(requester))
            return "Not allowed: you requested this onboarding, and self-approval is off; another approver must decide.";
        return null;
    }

    /// <summary>Null when <paramref name="actor"/> may cancel or retry: the requester or any approver.</summary>
    public string? WhyNotAllowedToManage(ChatUser actor, ChatUser requester)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(requester);
        if (actor.CanOnlyRead)
            return "Not allowed: PrequelBot cannot tell who you are here (no Entra ID object id), so you cannot cancel or retry.";
        return actor.IsSamePerson(requester) || IsApprover(actor)
            ? null
            : "Not allowed: only the requester or an approver can cancel or retry this onboarding.";
    }

    /// <summary>Whether <paramref name="actor"/> is in <c>Approvals:Approvers</c>, on their own platform.</summary>
    public bool IsApprover(ChatUser actor) => Listed(options.CurrentValue.Approvers, actor);

    /// <summary>Whether <paramref name="actor"/> may request changes: anyone identified when <c>Approvals:Requesters</c> is empty, else those listed.</summary>
    public bool IsRequester(ChatUser actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var requesters = options.CurrentValue.Requesters;
        return !actor.CanOnlyRead && (requesters.Count == 0 || Listed(requesters, actor));
    }

    private static bool Listed(List<string> entries, ChatUser actor) =>
        entries.Any(entry => ChatUserId.Parse(entry, out _) is { } id && id.Matches(actor));

    public TimeSpan Timeout => options.CurrentValue.Timeout;

    /// <summary>Distinct approvers <paramref name="step"/> needs: <c>Approvals:Steps:&lt;step&gt;:Required</c>, default 1.</summary>
    public int RequiredApprovals(string step) =>
        options.CurrentValue.Steps.TryGetValue(step, out var s) ? Math.Max(1, s.Required) : 1;

    /// <summary>The terms of a new prompt for <paramref name="step"/> posted at <paramref name="now"/>.</summary>
    public PromptTerms NewPromptTerms(string step, DateTimeOffset now) => new(Ids.NewApprovalId(), RequiredApprovals(step), now + Timeout);
}
