using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;
using PrequelBot.Workflows.Telemetry;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Records decisions on approval prompts: load → <see cref="OnboardingAggregate.Decide"/> → save (compare-and-set), so
/// the first settling decision wins and a refused or repeated click changes nothing. The approval policy is asked for
/// every click, so its rules (approver list, self-approval) apply to each approval of a quorum.
/// </summary>
public sealed partial class ApprovalService(
    IOnboardingStore store,
    OnboardingUpdater updater,
    ApprovalPolicy policy,
    TimeProvider time,
    ILogger<ApprovalService> logger) : IApprovalDecider
{
    private static readonly DecisionResult Unknown = new(DecisionOutcome.NotFound, "That approval prompt is not known to PrequelBot.");

    public async Task<DecisionResult> DecideAsync(string approvalId, ChatUser actor, bool approve, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (string.IsNullOrWhiteSpace(approvalId) || approvalId.Length > 40) return Unknown;
        var onboardingId = await store.FindOnboardingIdByApprovalAsync(approvalId, cancellationToken);
        if (onboardingId is null) return Unknown;

        OnboardingAggregate? seen = null;
        var result = await updater.UpdateAsync(onboardingId, agg =>
        {
            seen = agg;
            return agg.Decide(approvalId, actor, approve, policy.WhyNotAllowedToDecide(actor, agg.Onboarding.Requester), time.GetUtcNow());
        }, cancellationToken);
        if (seen is null) return Unknown;
        var t = result.Transition;
        var outcome = t.Refused ? DecisionOutcome.NotAllowed : t.Changed ? DecisionOutcome.Recorded : DecisionOutcome.AlreadyDecided;
        var shown = result.Saved ?? seen;
        if (outcome == DecisionOutcome.Recorded && shown.Approval(approvalId) is { DecidedAt: { } decidedAt } settled)
            PrequelBotTelemetry.RecordApprovalWait(settled.Step, decidedAt - settled.RequestedAt);
        var decision = new DecisionResult(outcome, t.Message ?? "", CardViews.Prompt(shown, shown.Approval(approvalId)!));
        LogDecision(logger, onboardingId, approvalId, actor.Platform, actor.Id, approve, outcome);
        return decision;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: decision on {ApprovalId} by {Platform}:{UserId} approve={Approve}: {Outcome}")]
    private static partial void LogDecision(ILogger logger, string onboardingId, string approvalId, string platform, string userId, bool approve, DecisionOutcome outcome);
}
