using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Workflows.Engine;

/// <summary>Who may approve, reject, cancel or retry, and how many approvals a step needs (docs/workflow.md, "Approvals").</summary>
public sealed class ApprovalPolicy(IOptionsMonitor<ApprovalOptions> options)
{
    /// <summary>Null when <paramref name="actor"/> may decide a prompt of an onboarding requested by <paramref name="requester"/>; else why not.</summary>
    public string? WhyNotAllowedToDecide(ChatUser actor, ChatUser requester)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(requester);
        var current = options.CurrentValue;
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
        return actor.IsSamePerson(requester) || IsApprover(actor)
            ? null
            : "Not allowed: only the requester or an approver can cancel or retry this onboarding.";
    }

    public bool IsApprover(ChatUser actor) =>
        options.CurrentValue.Approvers.Any(a => string.Equals(a.Trim(), actor.Id, StringComparison.OrdinalIgnoreCase));

    public TimeSpan Timeout => options.CurrentValue.Timeout;

    /// <summary>Distinct approvers <paramref name="step"/> needs: <c>Approvals:Steps:&lt;step&gt;:Required</c>, default 1.</summary>
    public int RequiredApprovals(string step) =>
        options.CurrentValue.Steps.TryGetValue(step, out var s) ? Math.Max(1, s.Required) : 1;

    /// <summary>The terms of a new prompt for <paramref name="step"/> posted at <paramref name="now"/>.</summary>
    public PromptTerms NewPromptTerms(string step, DateTimeOffset now) => new(Ids.NewApprovalId(), RequiredApprovals(step), now + Timeout);
}
