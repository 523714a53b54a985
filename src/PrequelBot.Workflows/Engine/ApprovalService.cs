using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Records decisions on approval prompts. The first decision wins (compare-and-set on the onboarding);
/// a refused or repeated click changes nothing. An approval starts the step on the fast queue.
/// </summary>
public sealed partial class ApprovalService(
    IStateStore store,
    OnboardingUpdater updater,
    ApprovalPolicy policy,
    IWorkScheduler scheduler,
    ISecretStore secrets,
    TimeProvider time,
    ILogger<ApprovalService> logger) : IApprovalDecider
{
    public async Task<DecisionResult> DecideAsync(string approvalId, ChatUser actor, bool approve, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (string.IsNullOrWhiteSpace(approvalId) || approvalId.Length > 40)
            return new DecisionResult(DecisionOutcome.NotFound, "That approval prompt is not known to PrequelBot.");
        var onboardingId = await store.FindOnboardingIdByApprovalAsync(approvalId, cancellationToken).ConfigureAwait(false);
        if (onboardingId is null) return new DecisionResult(DecisionOutcome.NotFound, "That approval prompt is not known to PrequelBot.");

        DecisionResult? outcome = null;
        string? stepToRun = null;
        var saved = await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var approval = agg.Approvals.Single(a => a.Id == approvalId);
            var ob = agg.Onboarding;
            if (approval.State != ApprovalStates.Pending)
            {
                var by = approval.DecidedBy is { } who ? $" by {who.DisplayName ?? who.Id}" : "";
                var when = approval.DecidedAt is { } at ? $" at {at:yyyy-MM-dd HH:mm} UTC" : "";
                outcome = new DecisionResult(DecisionOutcome.AlreadyDecided, $"Nothing changed: this prompt was already {approval.State}{by}{when}.", CardViews.Prompt(agg, approval));
                return OnboardingUpdater.Change.Skip;
            }
            if (policy.WhyNotAllowedToDecide(actor, ob.Requester) is { } why)
            {
                outcome = new DecisionResult(DecisionOutcome.NotAllowed, why, CardViews.Prompt(agg, approval));
                audit.Add(updater.Audit(ob.Id, actor.ToString(), "decision-refused", $"{approval.Id}: {why}"));
                // Record the refusal in the audit trail without changing anything else.
                return OnboardingUpdater.Change.Save;
            }
            var now = time.GetUtcNow();
            if (now >= approval.ExpiresAt)
            {
                outcome = new DecisionResult(DecisionOutcome.AlreadyDecided, "Nothing changed: this prompt has expired.", CardViews.Prompt(agg, approval));
                return OnboardingUpdater.Change.Skip;
            }
            var step = agg.Step(approval.Step);
            approval.State = approve ? ApprovalStates.Approved : ApprovalStates.Rejected;
            approval.DecidedBy = actor;
            approval.DecidedAt = now;
            if (approve)
            {
                if (step.State == StepStates.AwaitingApproval) step.State = StepStates.Approved;
                if (ob.State == OnboardingStates.AwaitingApproval) ob.State = OnboardingStates.Running;
                stepToRun = step.Name;
                audit.Add(updater.Audit(ob.Id, actor.ToString(), "approved", $"{approval.Step}: {approval.Id}"));
            }
            else
            {
                step.State = StepStates.Rejected;
                step.Detail = $"rejected by {actor.DisplayName ?? actor.Id}";
                ob.State = OnboardingStates.Rejected;
                ob.Message = $"{approval.Step} was rejected by {actor.DisplayName ?? actor.Id}; nothing more will change.";
                audit.Add(updater.Audit(ob.Id, actor.ToString(), "rejected", $"{approval.Step}: {approval.Id}"));
            }
            outcome = new DecisionResult(DecisionOutcome.Recorded, approve ? $"Approved {approval.Step} of {ob.Id}." : $"Rejected {approval.Step} of {ob.Id}.", CardViews.Prompt(agg, approval));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);

        if (saved is not null && stepToRun is not null) scheduler.RunApprovedStep(onboardingId, stepToRun);
        if (saved is not null && saved.Onboarding.State == OnboardingStates.Rejected)
            await secrets.EraseAsync(onboardingId, cancellationToken).ConfigureAwait(false);
        var result = outcome ?? new DecisionResult(DecisionOutcome.NotFound, "That approval prompt is not known to PrequelBot.");
        LogDecision(logger, onboardingId, approvalId, actor.Platform, actor.Id, approve, result.Outcome);
        return result;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: decision on {ApprovalId} by {Platform}:{UserId} approve={Approve}: {Outcome}")]
    private static partial void LogDecision(ILogger logger, string onboardingId, string approvalId, string platform, string userId, bool approve, DecisionOutcome outcome);
}
