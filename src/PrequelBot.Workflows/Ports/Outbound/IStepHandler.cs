using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Ports;

/// <summary>
/// The port through which the workflow reaches the outside world for one step (AWS, PostgreSQL, Prequel).
/// The engine calls <see cref="PlanAsync"/>; if the plan has changes and the step needs approval it asks a
/// person; just before applying it plans again from live state and calls <see cref="ApplyAsync"/> only when that plan
/// equals the approved one, then <see cref="VerifyAsync"/> (docs/architecture.md, "Steps and handlers").
/// </summary>
/// <remarks>
/// Guarantees the engine expects from every implementation:
/// <list type="bullet">
/// <item>Plan has no side effects. With <see cref="StepContext.IsPreview"/> it also must not depend on
/// earlier steps having been applied (it predicts from the facts at hand).</item>
/// <item>Apply may run more than once for the same onboarding (a crash, a Hangfire retry, <c>retry</c>):
/// it checks real state first and treats "already exists" as success. It never sleeps to wait for AWS:
/// return <see cref="StepResult.Wait"/> and the engine schedules a re-check that calls Apply again.</item>
/// <item>Expected failures are reported as <see cref="StepResult.Failed"/> or <see cref="StepFailedException"/>
/// with a plain message that contains no secret; any other exception is treated as transient and retried
/// with back-off a few times before the step fails.</item>
/// <item>Apply and Verify watch their CancellationToken: it fires when the onboarding is cancelled or the step's lease
/// is lost. Stop at the next safe point (before a call that is not idempotent), never half-way through one.</item>
/// </list>
/// </remarks>
public interface IStepHandler
{
    /// <summary>The step this handler implements: one of <see cref="StepNames"/>; exactly one handler per catalogue step (checked at start-up).</summary>
    string StepName { get; }

    /// <summary>Decides what would change. Empty <see cref="StepPlan.Changes"/> = already in place.</summary>
    Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken);

    /// <summary>Makes the change (idempotently). May update <see cref="StepContext.Facts"/>.</summary>
    Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken);

    /// <summary>Checks that the change took effect. Default: nothing more to check.</summary>
    Task<StepResult> VerifyAsync(StepContext context, CancellationToken cancellationToken) =>
        Task.FromResult(StepResult.Done());
}

/// <summary>What a step handler sees.</summary>
public sealed class StepContext
{
    public required string OnboardingId { get; init; }
    public required string StepName { get; init; }
    public required OnboardingRequest Request { get; init; }
    /// <summary>Facts so far; a handler may change them in Apply (saved when Apply returns Done or Wait).</summary>
    public required OnboardingFacts Facts { get; init; }
    /// <summary>True for <c>plan</c>: nothing may change, and earlier steps have not been applied.</summary>
    public bool IsPreview { get; init; }
    /// <summary>1 on the first Apply of this step, 2 on the first re-check, and so on.</summary>
    public int Attempt { get; init; } = 1;
    /// <summary>When the step first started running (for overall timeouts of waits).</summary>
    public DateTimeOffset StartedAt { get; init; }
    /// <summary>
    /// The plan the approvers approved (null for steps without approval). Apply applies exactly this: the engine has
    /// just re-planned from live state and found the same plan, or it would not have called Apply.
    /// </summary>
    public StepPlan? ApprovedPlan { get; init; }

    /// <summary>
    /// Set when Plan runs again for a step whose earlier run started applying this approved plan and stopped before its
    /// result was saved (<c>kill -9</c>, an unexpected error). What Plan finds of that change in live state was made by
    /// this bot: Plan records it in <see cref="OnboardingFacts.Changes"/> (docs/workflow.md, "The change record").
    /// </summary>
    public StepPlan? ResumedPlan { get; init; }

    /// <summary>The change lines of <see cref="ApprovedPlan"/> (empty for steps without approval).</summary>
    public IReadOnlyList<string> ApprovedChanges => ApprovedPlan?.Changes ?? [];

    /// <summary>
    /// Called by Apply with the plan it has just made from live state, before it changes anything: throws
    /// <see cref="ApprovedPlanChangedException"/> when that plan has changes and they are not exactly the approved ones
    /// (the same change lines and payload). The engine then applies nothing, says why on the card and asks again
    /// (docs/workflow.md, "Approvals are bound to the change"). Nothing to check for a step without approval, or when
    /// the live plan has no changes left (it is in place: nothing will be applied).
    /// </summary>
    public void EnsureApproved(StepPlan live)
    {
        ArgumentNullException.ThrowIfNull(live);
        if (ApprovedPlan is not { } approved || !live.HasChanges) return;
        if (!approved.Changes.SequenceEqual(live.Changes, StringComparer.Ordinal) || !string.Equals(approved.Payload, live.Payload, StringComparison.Ordinal))
            throw new ApprovedPlanChangedException(approved, live);
    }
}

/// <summary>
/// Thrown by <see cref="StepContext.EnsureApproved"/>: live state moved after the approval, so the change Apply would
/// make is not the approved one. Nothing was applied.
/// </summary>
public sealed class ApprovedPlanChangedException(StepPlan approved, StepPlan live)
    : Exception($"the change differs from what was approved: {approved.DifferenceTo(live)}")
{
    /// <summary>The plan made from live state, to be shown in the new prompt.</summary>
    public StepPlan Live { get; } = live;
}

/// <summary>The outcome of Apply or Verify.</summary>
public sealed record StepResult
{
    public required StepOutcome Outcome { get; init; }
    /// <summary>User-facing: a summary (Done), a status (Wait) or the reason (Failed). Never a secret.</summary>
    public string? Message { get; init; }
    /// <summary>For Wait: a hint for the next re-check; the engine applies its own back-off bounds.</summary>
    public TimeSpan? RecheckAfter { get; init; }
    /// <summary>For Wait: how long in total the step may wait before failing; null = the engine's default.</summary>
    public TimeSpan? WaitTimeout { get; init; }

    public static StepResult Done(string? summary = null) => new() { Outcome = StepOutcome.Done, Message = summary };
    public static StepResult Wait(string status, TimeSpan? recheckAfter = null, TimeSpan? timeout = null) =>
        new() { Outcome = StepOutcome.Wait, Message = status, RecheckAfter = recheckAfter, WaitTimeout = timeout };
    public static StepResult Failed(string reason) => new() { Outcome = StepOutcome.Failed, Message = reason };
}

public enum StepOutcome { Done, Wait, Failed }

/// <summary>
/// An expected, permanent failure of a step with a message fit for chat (no secret, no stack trace).
/// Throwing it fails the step at once; <c>retry</c> re-runs the step.
/// </summary>
public sealed class StepFailedException(string userMessage, Exception? inner = null) : Exception(userMessage, inner);
