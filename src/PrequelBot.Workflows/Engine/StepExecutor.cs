using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;
using PrequelBot.Workflows.Telemetry;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Runs one claimed step: takes its lease, checks that the live plan is still the approved one, applies and verifies it
/// while a heartbeat renews the lease, and records the result (docs/architecture.md, "Running a step").
/// </summary>
public sealed partial class StepExecutor(
    OnboardingUpdater updater,
    StepHandlerRegistry handlers,
    ApprovalPolicy policy,
    IOptionsMonitor<WorkflowOptions> options,
    TimeProvider time,
    ILogger<StepExecutor> logger)
{
    /// <summary>Claims <paramref name="stepName"/> and runs it; does nothing when another worker holds it or it is not runnable.</summary>
    public async Task ExecuteAsync(string onboardingId, string stepName, CancellationToken cancellationToken)
    {
        var workflow = options.CurrentValue;
        var owner = Ids.NewLeaseOwner();
        var claim = await updater.UpdateAsync(onboardingId, a => a.Claim(stepName, owner, time.GetUtcNow() + workflow.StepLease, time.GetUtcNow()), cancellationToken);
        if (claim.Saved is not { } claimed) return;
        var step = claimed.Step(stepName);
        var handler = handlers.For(stepName);
        var started = time.GetTimestamp();

        Func<OnboardingAggregate, Transition>? record = null;
        Exception? error = null;
        var heartbeat = new Heartbeat(workflow.StepHeartbeat, RenewAsync, time, cancellationToken);
        try
        {
            record = await RunAsync(claimed, step, owner, handler, heartbeat.Token);
        }
        catch (StepFailedException e)
        {
            record = a => a.FailStep(stepName, owner, e.Message, time.GetUtcNow());
        }
        catch (OperationCanceledException) when (heartbeat.LeaseLost && !cancellationToken.IsCancellationRequested)
        {
            // Cancelled (or the lease was taken over): the handler stopped at a safe point.
            record = a => a.StopAfterCancel(stepName, owner, "it stopped before finishing", time.GetUtcNow());
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            error = e;
        }
        finally
        {
            await heartbeat.DisposeAsync();
        }
        if (record is null)
        {
            PrequelBotTelemetry.RecordStep(stepName, "error", time.GetElapsedTime(started));
            await RecordErrorAsync(onboardingId, stepName, owner, error!, step.Errors, cancellationToken);
            return;
        }
        var saved = await updater.UpdateAsync(onboardingId, record, cancellationToken);
        PrequelBotTelemetry.RecordStep(stepName, saved.Saved?.Step(stepName).State.Word() ?? "superseded", time.GetElapsedTime(started));
        if (saved.Saved?.Step(stepName) is { State: StepState.Completed }) LogStepCompleted(logger, onboardingId, stepName);
        else if (saved.Saved?.Step(stepName) is { State: StepState.Failed, Detail: var reason }) LogStepFailed(logger, onboardingId, stepName, reason ?? "");

        Task<bool> RenewAsync(CancellationToken token) => RenewLeaseAsync(onboardingId, stepName, owner, workflow.StepLease, token);
    }

    private async Task<bool> RenewLeaseAsync(string onboardingId, string stepName, string owner, TimeSpan lease, CancellationToken cancellationToken) =>
        (await updater.UpdateAsync(onboardingId, a => a.RenewLease(stepName, owner, time.GetUtcNow() + lease), cancellationToken)).Saved is not null;

    /// <summary>Binds the approval, applies, verifies; returns the transition that records the outcome.</summary>
    private async Task<Func<OnboardingAggregate, Transition>> RunAsync(OnboardingAggregate claimed, StepRecord step, string owner, IStepHandler handler, CancellationToken cancellationToken)
    {
        var name = step.Name;
        StepPlan? approved = null;
        // Re-checks of a waiting step continue a change already under way; every other run applies only what was approved.
        if (claimed.Catalogue.Step(name).NeedsApproval && step.Deadline is null)
        {
            var approval = claimed.Approval(step.ApprovalId ?? "") ?? claimed.Approvals.LastOrDefault(a => a.Step == name && a.State == ApprovalState.Approved);
            // A run that started after this approval and stopped before its result was saved (a crash, an error) may have
            // made part of the change: the re-plan is told, so the handler records what it finds of its own as the bot's.
            var planContext = StepContexts.For(claimed, step, time, resumed: step.Attempts > 1 ? approval?.Plan : null);
            var live = await handler.PlanAsync(planContext, cancellationToken);
            var why = approval is null ? "no approval is recorded for this change"
                : approval.IsExpiredAt(time.GetUtcNow()) ? "the approval expired before the change was applied"
                : live.Hash(name) != approval.PlanHash ? $"the change differs from what was approved: {approval.Plan.DifferenceTo(live)}"
                : null;
            if (why is not null)
            {
                LogReasked(logger, claimed.Id, name, why);
                return a => a.ReAsk(name, owner, live, planContext.Facts, why, policy.NewPromptTerms(name, time.GetUtcNow()), time.GetUtcNow());
            }
            approved = approval!.Plan;
        }
        var context = StepContexts.For(claimed, step, time, approved);
        StepResult result;
        try
        {
            result = await handler.ApplyAsync(context, cancellationToken);
        }
        catch (ApprovedPlanChangedException e) when (approved is not null)
        {
            // The handler's own re-plan, made just before its first change, no longer matches: apply nothing, ask again.
            LogReasked(logger, claimed.Id, name, e.Message);
            return a => a.ReAsk(name, owner, e.Live, context.Facts, e.Message, policy.NewPromptTerms(name, time.GetUtcNow()), time.GetUtcNow());
        }
        if (result.Outcome == StepOutcome.Done)
        {
            var verified = await handler.VerifyAsync(context, cancellationToken);
            if (verified.Outcome != StepOutcome.Done) result = verified;
            else if (verified.Message is { Length: > 0 }) result = StepResult.Done(JoinMessages(result.Message, verified.Message));
        }
        var workflow = options.CurrentValue;
        return result.Outcome switch
        {
            StepOutcome.Done => a => a.FinishStep(name, owner, context.Facts, result.Message, time.GetUtcNow()),
            StepOutcome.Wait => a => a.WaitStep(name, owner, context.Facts, result.Message, result.WaitTimeout ?? workflow.WaitTimeout, RecheckDelay(step.Attempts, result.RecheckAfter), time.GetUtcNow()),
            _ => a => a.FailStep(name, owner, result.Message ?? $"{name} failed.", time.GetUtcNow(), context.Facts.Changes),
        };
    }

    /// <summary>The engine's back-off for re-checks, or the handler's hint within the engine's bounds.</summary>
    private TimeSpan RecheckDelay(int attempt, TimeSpan? hint)
    {
        var workflow = options.CurrentValue;
        return hint is { } h
            ? TimeSpan.FromTicks(Math.Clamp(h.Ticks, workflow.RecheckInitialDelay.Ticks / 4, workflow.RecheckMaxDelay.Ticks))
            : Backoff.Delay(attempt, workflow.RecheckInitialDelay, workflow.RecheckMaxDelay);
    }

    /// <summary>Records an unexpected error of a step (while planning when <paramref name="owner"/> is null): retried with back-off, then failed.</summary>
    internal async Task RecordErrorAsync(string onboardingId, string stepName, string? owner, Exception error, int errorsSoFar, CancellationToken cancellationToken)
    {
        LogStepError(logger, error, onboardingId, stepName);
        var workflow = options.CurrentValue;
        var retryIn = Backoff.Delay(errorsSoFar + 1, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));
        await updater.UpdateAsync(onboardingId, a => a.StepError(stepName, owner, error.GetType().Name, workflow.MaxStepErrors, retryIn, time.GetUtcNow()), cancellationToken);
    }

    private static string? JoinMessages(string? a, string? b) =>
        string.IsNullOrEmpty(a) ? b : string.IsNullOrEmpty(b) ? a : $"{a}; {b}";

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: step {Step} completed")]
    private static partial void LogStepCompleted(ILogger logger, string onboardingId, string step);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Onboarding {OnboardingId}: step {Step} failed: {Reason}")]
    internal static partial void LogStepFailed(ILogger logger, string onboardingId, string step, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: step {Step} applies nothing and asks again: {Reason}")]
    private static partial void LogReasked(ILogger logger, string onboardingId, string step, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Onboarding {OnboardingId}: step {Step} hit an unexpected error; it will be retried")]
    private static partial void LogStepError(ILogger logger, Exception error, string onboardingId, string step);
}
