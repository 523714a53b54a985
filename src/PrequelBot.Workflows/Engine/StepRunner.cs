using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Advances one onboarding by one transition of its current step: plan → (approval) → apply → verify.
/// Called by step jobs; may run concurrently with itself and more than once for the same transition:
/// a running step is held by a lease stored with the onboarding, and every save is a compare-and-set.
/// </summary>
public sealed partial class StepRunner(
    IStateStore store,
    OnboardingUpdater updater,
    StepHandlerRegistry handlers,
    ApprovalPolicy policy,
    IWorkScheduler scheduler,
    ISecretStore secrets,
    IOptionsMonitor<WorkflowOptions> options,
    TimeProvider time,
    ILogger<StepRunner> logger)
{
    /// <summary>Runs the current step of <paramref name="onboardingId"/> as far as it can go without a person.</summary>
    public async Task RunAsync(string onboardingId, CancellationToken cancellationToken)
    {
        var aggregate = await store.LoadAsync(onboardingId, cancellationToken).ConfigureAwait(false);
        if (aggregate is null || OnboardingStates.IsFinished(aggregate.Onboarding.State)) return;

        var step = aggregate.CurrentStep;
        if (step is null)
        {
            await CompleteAsync(onboardingId, cancellationToken).ConfigureAwait(false);
            return;
        }

        var now = time.GetUtcNow();
        switch (step.State)
        {
            case StepStates.Pending:
                await PlanAsync(aggregate, step, cancellationToken).ConfigureAwait(false);
                break;
            case StepStates.Approved:
            case StepStates.Running when step.LeaseUntil is null || step.LeaseUntil < now:
            case StepStates.Waiting when step.NextCheckAt is null || step.NextCheckAt <= now:
                await ApplyAsync(aggregate, step, cancellationToken).ConfigureAwait(false);
                break;
            case StepStates.Waiting:
                // An early duplicate of the re-check job: keep the schedule.
                scheduler.RunStepLater(onboardingId, step.Name, step.NextCheckAt!.Value - now);
                break;
            default:
                // Awaiting a person, failed, rejected, cancelled, or running under another worker's lease.
                break;
        }
    }

    private async Task CompleteAsync(string onboardingId, CancellationToken cancellationToken)
    {
        // The password has reached Prequel (or was never needed): nothing may keep it any longer.
        await secrets.EraseAsync(onboardingId, cancellationToken).ConfigureAwait(false);
        await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var ob = agg.Onboarding;
            if (OnboardingStates.IsFinished(ob.State) || agg.CurrentStep is not null) return OnboardingUpdater.Change.Skip;
            ob.State = OnboardingStates.Completed;
            ob.Message = ob.Facts.PrequelSourceId is { } id ? $"Connected to Prequel as source {id}." : "All steps are done.";
            audit.Add(updater.Audit(ob.Id, AuditEvent.System, "onboarding-completed"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        LogCompleted(logger, onboardingId);
    }

    private StepContext Context(OnboardingAggregate aggregate, StepRecord step) => new()
    {
        OnboardingId = aggregate.Id,
        StepName = step.Name,
        Request = aggregate.Onboarding.Request,
        Facts = aggregate.Onboarding.Facts.Clone(),
        Attempt = step.Attempts,
        StartedAt = step.StartedAt ?? time.GetUtcNow(),
        ApprovedChanges = step.PlannedChanges,
    };

    private async Task PlanAsync(OnboardingAggregate aggregate, StepRecord step, CancellationToken cancellationToken)
    {
        var handler = handlers.Find(step.Name);
        if (handler is null)
        {
            await FailAsync(aggregate.Id, step.Name, null, StepHandlerRegistry.NotAvailable(step.Name), cancellationToken).ConfigureAwait(false);
            return;
        }

        StepPlan plan;
        var context = Context(aggregate, step);
        try
        {
            plan = await handler.PlanAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (StepFailedException e)
        {
            await FailAsync(aggregate.Id, step.Name, null, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await TransientErrorAsync(aggregate.Id, step.Name, null, e, cancellationToken).ConfigureAwait(false);
            return;
        }

        var planHash = PlanHash(step.Name, plan.Changes);
        var now = time.GetUtcNow();
        var next = NextAction.None;
        await updater.UpdateAsync(aggregate.Id, (agg, audit) =>
        {
            var ob = agg.Onboarding;
            var s = agg.Step(step.Name);
            if (OnboardingStates.IsFinished(ob.State) || s.State != StepStates.Pending || agg.CurrentStep?.Name != s.Name)
                return OnboardingUpdater.Change.Skip;
            s.PlannedChanges = plan.Changes;
            s.PlanNote = plan.Note;
            s.Errors = 0;
            if (!plan.HasChanges)
            {
                // What planning learned (e.g. the id of a Prequel source that already exists) is kept.
                ob.Facts = context.Facts;
                s.State = StepStates.AlreadyInPlace;
                s.Detail = plan.Detail ?? "already in place";
                s.FinishedAt = now;
                ob.State = OnboardingStates.Running;
                audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-already-in-place", $"{s.Name}: {s.Detail}"));
                next = NextAction.NextStep;
                return OnboardingUpdater.Change.Save;
            }
            if (!StepNames.RequiresApproval(s.Name))
            {
                s.State = StepStates.Approved;
                ob.State = OnboardingStates.Running;
                audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-planned", s.Name));
                next = NextAction.Apply;
                return OnboardingUpdater.Change.Save;
            }
            // An approval covers exactly one change list: a re-plan that yields the same changes (after a crash or
            // a retry) reuses it instead of asking again.
            var approvedBefore = agg.Approvals.FirstOrDefault(a => a.Step == s.Name && a.State == ApprovalStates.Approved && a.PlanHash == planHash);
            if (approvedBefore is not null)
            {
                s.State = StepStates.Approved;
                ob.State = OnboardingStates.Running;
                audit.Add(updater.Audit(ob.Id, AuditEvent.System, "approval-reused", $"{s.Name}: {approvedBefore.Id}"));
                next = NextAction.Apply;
                return OnboardingUpdater.Change.Save;
            }
            foreach (var stale in agg.Approvals.Where(a => a.Step == s.Name && a.State == ApprovalStates.Pending))
                stale.State = ApprovalStates.Cancelled;
            var approval = new ApprovalRecord
            {
                Id = Ids.NewApprovalId(),
                OnboardingId = ob.Id,
                Step = s.Name,
                Changes = plan.Changes,
                Note = plan.Note,
                PlanHash = planHash,
                RequestedAt = now,
                ExpiresAt = now + policy.Timeout,
            };
            agg.Approvals.Add(approval);
            s.State = StepStates.AwaitingApproval;
            s.Detail = null;
            ob.State = OnboardingStates.AwaitingApproval;
            audit.Add(updater.Audit(ob.Id, AuditEvent.System, "approval-requested", $"{s.Name}: {approval.Id}: {string.Join("; ", plan.Changes)}"));
            next = NextAction.None;
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);

        if (next != NextAction.None) scheduler.RunStep(aggregate.Id, step.Name);
    }

    private enum NextAction { None, Apply, NextStep }

    private async Task ApplyAsync(OnboardingAggregate aggregate, StepRecord step, CancellationToken cancellationToken)
    {
        var handler = handlers.Find(step.Name);
        if (handler is null)
        {
            await FailAsync(aggregate.Id, step.Name, null, StepHandlerRegistry.NotAvailable(step.Name), cancellationToken).ConfigureAwait(false);
            return;
        }

        var owner = Ids.NewLeaseOwner();
        var workflow = options.CurrentValue;
        var claimed = await updater.UpdateAsync(aggregate.Id, (agg, audit) =>
        {
            var ob = agg.Onboarding;
            var s = agg.Step(step.Name);
            var now = time.GetUtcNow();
            if (OnboardingStates.IsFinished(ob.State) || agg.CurrentStep?.Name != s.Name) return OnboardingUpdater.Change.Skip;
            var runnable = s.State == StepStates.Approved
                || (s.State == StepStates.Running && (s.LeaseUntil is null || s.LeaseUntil < now))
                || (s.State == StepStates.Waiting && (s.NextCheckAt is null || s.NextCheckAt <= now));
            if (!runnable) return OnboardingUpdater.Change.Skip;
            if (s.State == StepStates.Running) audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-resumed", $"{s.Name}: the previous worker stopped"));
            else if (s.State == StepStates.Approved) audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-started", s.Name));
            var wasWaiting = s.State == StepStates.Waiting;
            s.State = StepStates.Running;
            s.LeaseOwner = owner;
            s.LeaseUntil = now + workflow.StepLease;
            s.Attempts++;
            s.StartedAt ??= now;
            ob.State = wasWaiting ? OnboardingStates.Waiting : OnboardingStates.Running;
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        if (claimed is null) return;

        var claimedStep = claimed.Step(step.Name);
        var context = Context(claimed, claimedStep);
        StepResult result;
        try
        {
            result = await handler.ApplyAsync(context, cancellationToken).ConfigureAwait(false);
            if (result.Outcome == StepOutcome.Done)
            {
                var verified = await handler.VerifyAsync(context, cancellationToken).ConfigureAwait(false);
                if (verified.Outcome != StepOutcome.Done) result = verified;
                else if (verified.Message is { Length: > 0 }) result = StepResult.Done(JoinMessages(result.Message, verified.Message));
            }
        }
        catch (StepFailedException e)
        {
            await FailAsync(aggregate.Id, step.Name, owner, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await TransientErrorAsync(aggregate.Id, step.Name, owner, e, cancellationToken).ConfigureAwait(false);
            return;
        }

        switch (result.Outcome)
        {
            case StepOutcome.Done:
                await FinishAsync(aggregate.Id, step.Name, owner, context.Facts, result.Message, cancellationToken).ConfigureAwait(false);
                break;
            case StepOutcome.Wait:
                await WaitAsync(aggregate.Id, step.Name, owner, context.Facts, result, cancellationToken).ConfigureAwait(false);
                break;
            default:
                await FailAsync(aggregate.Id, step.Name, owner, result.Message ?? $"{step.Name} failed.", cancellationToken).ConfigureAwait(false);
                break;
        }
    }

    private static string? JoinMessages(string? a, string? b) =>
        string.IsNullOrEmpty(a) ? b : string.IsNullOrEmpty(b) ? a : $"{a}; {b}";

    private static bool HoldsLease(StepRecord s, string owner) => s.State == StepStates.Running && s.LeaseOwner == owner;

    private async Task FinishAsync(string onboardingId, string stepName, string owner, OnboardingFacts facts, string? summary, CancellationToken cancellationToken)
    {
        var saved = await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var s = agg.Step(stepName);
            if (!HoldsLease(s, owner)) return OnboardingUpdater.Change.Skip;
            var ob = agg.Onboarding;
            ob.Facts = facts;
            s.State = StepStates.Completed;
            s.Detail = summary;
            s.FinishedAt = time.GetUtcNow();
            s.LeaseOwner = null;
            s.LeaseUntil = null;
            s.NextCheckAt = null;
            s.Errors = 0;
            if (!OnboardingStates.IsFinished(ob.State)) ob.State = OnboardingStates.Running;
            audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-completed", summary is null ? stepName : $"{stepName}: {summary}"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        if (saved is not null)
        {
            LogStepCompleted(logger, onboardingId, stepName);
            if (!OnboardingStates.IsFinished(saved.Onboarding.State)) scheduler.RunStep(onboardingId, saved.CurrentStep?.Name ?? stepName);
        }
    }

    private async Task WaitAsync(string onboardingId, string stepName, string owner, OnboardingFacts facts, StepResult result, CancellationToken cancellationToken)
    {
        var workflow = options.CurrentValue;
        TimeSpan? delay = null;
        var timedOut = false;
        var saved = await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var s = agg.Step(stepName);
            if (!HoldsLease(s, owner)) return OnboardingUpdater.Change.Skip;
            var ob = agg.Onboarding;
            var now = time.GetUtcNow();
            ob.Facts = facts;
            s.Deadline ??= (s.StartedAt ?? now) + (result.WaitTimeout ?? workflow.WaitTimeout);
            s.LeaseOwner = null;
            s.LeaseUntil = null;
            if (now >= s.Deadline)
            {
                timedOut = true;
                var waited = now - (s.StartedAt ?? now);
                s.State = StepStates.Failed;
                s.Detail = $"gave up after waiting {Math.Round(waited.TotalMinutes)} min: {result.Message}";
                ob.State = OnboardingStates.Failed;
                ob.Message = $"{stepName} failed: {s.Detail}. Use retry {ob.Id} to wait again.";
                audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-failed", $"{stepName}: {s.Detail}"));
                return OnboardingUpdater.Change.Save;
            }
            var backoff = Backoff.Delay(s.Attempts, workflow.RecheckInitialDelay, workflow.RecheckMaxDelay);
            if (result.RecheckAfter is { } hint) backoff = TimeSpan.FromTicks(Math.Clamp(hint.Ticks, workflow.RecheckInitialDelay.Ticks / 4, workflow.RecheckMaxDelay.Ticks));
            delay = backoff;
            s.State = StepStates.Waiting;
            s.Detail = result.Message;
            s.NextCheckAt = now + backoff;
            if (!OnboardingStates.IsFinished(ob.State)) ob.State = OnboardingStates.Waiting;
            if (s.Attempts == 1) audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-waiting", $"{stepName}: {result.Message}"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        if (saved is not null && !timedOut && delay is { } d && !OnboardingStates.IsFinished(saved.Onboarding.State))
            scheduler.RunStepLater(onboardingId, stepName, d);
    }

    private async Task FailAsync(string onboardingId, string stepName, string? owner, string reason, CancellationToken cancellationToken)
    {
        await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var s = agg.Step(stepName);
            if (owner is null ? s.State is not (StepStates.Pending or StepStates.Approved) : !HoldsLease(s, owner)) return OnboardingUpdater.Change.Skip;
            var ob = agg.Onboarding;
            s.State = StepStates.Failed;
            s.Detail = reason;
            s.LeaseOwner = null;
            s.LeaseUntil = null;
            s.FinishedAt = time.GetUtcNow();
            if (!OnboardingStates.IsFinished(ob.State))
            {
                ob.State = OnboardingStates.Failed;
                ob.Message = $"{stepName} failed: {reason} Fix the cause, then: retry {ob.Id}";
            }
            audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-failed", $"{stepName}: {reason}"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        LogStepFailed(logger, onboardingId, stepName, reason);
    }

    private async Task TransientErrorAsync(string onboardingId, string stepName, string? owner, Exception error, CancellationToken cancellationToken)
    {
        var workflow = options.CurrentValue;
        LogStepError(logger, error, onboardingId, stepName);
        TimeSpan? retryIn = null;
        await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var s = agg.Step(stepName);
            if (owner is null ? s.State != StepStates.Pending : !HoldsLease(s, owner)) return OnboardingUpdater.Change.Skip;
            var ob = agg.Onboarding;
            s.Errors++;
            s.LeaseOwner = null;
            s.LeaseUntil = null;
            var what = $"unexpected error ({error.GetType().Name})";
            if (s.Errors >= workflow.MaxStepErrors)
            {
                s.State = StepStates.Failed;
                s.Detail = $"{what}, {s.Errors} times; see the PrequelBot log";
                s.FinishedAt = time.GetUtcNow();
                if (!OnboardingStates.IsFinished(ob.State))
                {
                    ob.State = OnboardingStates.Failed;
                    ob.Message = $"{stepName} failed: {s.Detail}. Fix the cause, then: retry {ob.Id}";
                }
                audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-failed", $"{stepName}: {s.Detail}"));
                return OnboardingUpdater.Change.Save;
            }
            if (owner is not null) s.State = s.NextCheckAt is null ? StepStates.Approved : StepStates.Waiting;
            retryIn = Backoff.Delay(s.Errors, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
            s.NextCheckAt = s.State == StepStates.Waiting ? time.GetUtcNow() + retryIn : s.NextCheckAt;
            s.Detail = $"{what}; retrying (attempt {s.Errors + 1} of {workflow.MaxStepErrors})";
            audit.Add(updater.Audit(ob.Id, AuditEvent.System, "step-error", $"{stepName}: {what}"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        if (retryIn is { } delay) scheduler.RunStepLater(onboardingId, stepName, delay);
    }

    /// <summary>Fingerprint of a step's change list.</summary>
    public static string PlanHash(string step, IReadOnlyList<string> changes) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(step + "\n" + string.Join("\n", changes))));

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId} completed")]
    private static partial void LogCompleted(ILogger logger, string onboardingId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: step {Step} completed")]
    private static partial void LogStepCompleted(ILogger logger, string onboardingId, string step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Onboarding {OnboardingId}: step {Step} failed: {Reason}")]
    private static partial void LogStepFailed(ILogger logger, string onboardingId, string step, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Onboarding {OnboardingId}: step {Step} hit an unexpected error; it will be retried")]
    private static partial void LogStepError(ILogger logger, Exception error, string onboardingId, string step);
}
