using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Advances one onboarding by one transition of its current step: plan → (approval) → execute. Called by step jobs;
/// may run concurrently with itself and more than once for the same transition: every change is a compare-and-set
/// transition of <see cref="OnboardingAggregate"/>, and a running step is held by a lease its heartbeat renews.
/// </summary>
public sealed partial class StepRunner(
    IOnboardingStore store,
    OnboardingUpdater updater,
    StepHandlerRegistry handlers,
    StepExecutor executor,
    ApprovalPolicy policy,
    IWorkScheduler scheduler,
    TimeProvider time,
    ILogger<StepRunner> logger)
{
    /// <summary>Runs the current step of <paramref name="onboardingId"/> as far as it can go without a person.</summary>
    public async Task RunAsync(string onboardingId, CancellationToken cancellationToken)
    {
        var aggregate = await store.LoadAsync(onboardingId, cancellationToken);
        if (aggregate is null || aggregate.State.IsFinished()) return;
        var step = aggregate.CurrentStep;
        var now = time.GetUtcNow();
        if (step is null)
        {
            if ((await updater.UpdateAsync(onboardingId, a => a.Complete(time.GetUtcNow()), cancellationToken)).Saved is not null)
                LogCompleted(logger, onboardingId);
        }
        else if (step.State == StepState.Pending)
        {
            await PlanAsync(aggregate, step, cancellationToken);
        }
        else if (step.IsRunnable(now))
        {
            await executor.ExecuteAsync(onboardingId, step.Name, cancellationToken);
        }
        else if (step is { State: StepState.Waiting, NextCheckAt: { } next })
        {
            // An early duplicate of the re-check job: keep the schedule.
            scheduler.RunStepLater(onboardingId, step.Name, next - now);
        }
        // Otherwise: awaiting a person, or running under another worker's live lease.
    }

    private async Task PlanAsync(OnboardingAggregate aggregate, StepRecord step, CancellationToken cancellationToken)
    {
        var context = StepContexts.For(aggregate, step, time);
        StepPlan plan;
        try
        {
            plan = await handlers.For(step.Name).PlanAsync(context, cancellationToken);
        }
        catch (StepFailedException e)
        {
            await updater.UpdateAsync(aggregate.Id, a => a.FailStep(step.Name, null, e.Message, time.GetUtcNow()), cancellationToken);
            StepExecutor.LogStepFailed(logger, aggregate.Id, step.Name, e.Message);
            return;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await executor.RecordErrorAsync(aggregate.Id, step.Name, null, e, step.Errors, cancellationToken);
            return;
        }
        await updater.UpdateAsync(aggregate.Id, a => a.RecordPlan(step.Name, plan, context.Facts, policy.NewPromptTerms(step.Name, time.GetUtcNow()), time.GetUtcNow()), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId} completed")]
    private static partial void LogCompleted(ILogger logger, string onboardingId);
}

/// <summary>What a step handler is given, built the same way for <c>connect</c> and for <c>plan</c>.</summary>
internal static class StepContexts
{
    /// <summary>The context of <paramref name="step"/>; with <paramref name="facts"/> (a <c>plan</c> preview, facts shared across steps) a preview, else a copy of the stored facts.</summary>
    public static StepContext For(OnboardingAggregate aggregate, StepRecord step, TimeProvider time, StepPlan? approved = null, OnboardingFacts? facts = null, StepPlan? resumed = null) => new()
    {
        OnboardingId = aggregate.Id,
        StepName = step.Name,
        Request = aggregate.Onboarding.Request,
        Facts = facts ?? aggregate.Onboarding.Facts.Clone(),
        IsPreview = facts is not null,
        Attempt = Math.Max(1, step.Attempts),
        StartedAt = step.StartedAt ?? time.GetUtcNow(),
        ApprovedPlan = approved,
        ResumedPlan = resumed,
    };
}
