using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Re-drives onboardings whose queued work was lost (the in-memory Hangfire queue after a restart, a crashed worker),
/// expires unanswered prompts and catches lagging chat cards up. Runs at start-up and periodically; every action it
/// takes is also safe when the work was not lost (jobs re-check state). A running step whose heartbeat keeps its lease
/// alive is never re-driven, however long it runs.
/// </summary>
public sealed partial class Reconciler(
    IOnboardingStore store,
    IChatMessageStore chat,
    OnboardingUpdater updater,
    IWorkScheduler scheduler,
    StorageTopology topology,
    IOptionsMonitor<WorkflowOptions> options,
    TimeProvider time,
    ILogger<Reconciler> logger)
{
    /// <summary>
    /// One pass. At <paramref name="startup"/> on in-memory Hangfire every runnable step is re-enqueued at once, and
    /// on a single-node store the leases of the previous run are voided (that process is gone); otherwise only
    /// steps that made no progress for a grace period are re-driven.
    /// </summary>
    public async Task<ReconcilePass> ReconcileAsync(bool startup, CancellationToken cancellationToken)
    {
        var grace = options.CurrentValue.StartGrace;
        DateTimeOffset? nextDue = null;
        var assumeQueueLost = startup && topology.VolatileJobQueue;
        var voidLeases = startup && topology.SingleNode;
        var redriven = 0;
        foreach (var id in await store.ListActiveIdsAsync(cancellationToken))
        {
            var aggregate = await store.LoadAsync(id, cancellationToken);
            if (aggregate is null || aggregate.State.IsFinished()) continue;
            var now = time.GetUtcNow();
            if (aggregate.HasExpiredPrompt(now))
            {
                if ((await updater.UpdateAsync(id, a => a.ExpirePrompts(time.GetUtcNow()), cancellationToken)).Saved is not null) LogExpired(logger, id);
                continue;
            }
            if (voidLeases && aggregate.CurrentStep is { State: StepState.Running, LeaseUntil: not null } running)
                aggregate = (await updater.UpdateAsync(id, a => a.ReleaseLease(running.Name, time.GetUtcNow()), cancellationToken)).Saved ?? aggregate;
            var step = aggregate.CurrentStep;
            var stale = assumeQueueLost || aggregate.Onboarding.UpdatedAt < now - grace;
            var due = step is null ? stale : step.State switch
            {
                StepState.Pending or StepState.Approved => stale,
                StepState.Running => step.IsRunnable(now),
                StepState.Waiting => step.NextCheckAt is null || assumeQueueLost || step.NextCheckAt < now - grace,
                _ => false,
            };
            if (!due)
            {
                if (WhenDue(aggregate, step, grace) is { } when && when > now && (nextDue is null || when < nextDue)) nextDue = when;
                continue;
            }
            if (step is { State: StepState.Waiting, NextCheckAt: { } next } && next > now) scheduler.RunStepLater(id, step.Name, next - now);
            else scheduler.RunStep(id, step?.Name ?? aggregate.Steps[^1].Name);
            redriven++;
            var stepState = step?.State.Word() ?? "-";
            LogRedriven(logger, id, step?.Name ?? "-", stepState);
        }
        foreach (var id in await chat.ListChatPendingIdsAsync(cancellationToken)) scheduler.SyncChat(id);
        return new ReconcilePass(redriven, nextDue);
    }

    /// <summary>
    /// The lease watch, cheap enough for every tick of the reconciler: re-drives each step whose worker's lease has
    /// lapsed (its node died mid-step), and says when the next live lease would lapse. A full pass sees the same steps
    /// but only every <see cref="WorkflowOptions.ReconcileInterval"/>; a step claimed after the last full pass would
    /// otherwise wait for the next one (docs/workflow.md, "Losing a node").
    /// </summary>
    public async Task<ReconcilePass> RedriveLapsedLeasesAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset? nextDue = null;
        var redriven = 0;
        foreach (var id in await store.ListIdsWithRunningStepAsync(cancellationToken))
        {
            var aggregate = await store.LoadAsync(id, cancellationToken);
            if (aggregate is null || aggregate.State.IsFinished() || aggregate.CurrentStep is not { State: StepState.Running } step) continue;
            var now = time.GetUtcNow();
            if (!step.IsRunnable(now))
            {
                if (step.LeaseUntil is { } until && (nextDue is null || until < nextDue)) nextDue = until;
                continue;
            }
            scheduler.RunStep(id, step.Name);
            redriven++;
            LogRedriven(logger, id, step.Name, StepStates.Running);
        }
        return new ReconcilePass(redriven, nextDue);
    }

    /// <summary>When a pass would next re-drive this onboarding if nothing happens meanwhile: its lease lapses, or its queued work is overdue.</summary>
    private static DateTimeOffset? WhenDue(OnboardingAggregate aggregate, StepRecord? step, TimeSpan grace) => step?.State switch
    {
        StepState.Running => step.LeaseUntil,
        StepState.Pending or StepState.Approved => aggregate.Onboarding.UpdatedAt + grace,
        StepState.Waiting => step.NextCheckAt + grace,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciler re-drove onboarding {OnboardingId} at step {Step} ({StepState})")]
    private static partial void LogRedriven(ILogger logger, string onboardingId, string step, string stepState);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId} cancelled: an approval prompt expired")]
    private static partial void LogExpired(ILogger logger, string onboardingId);
}

/// <summary>What one reconciler pass did, and when the next one is worth making (null: only at the regular sweep).</summary>
public sealed record ReconcilePass(int Redriven, DateTimeOffset? NextDue);
