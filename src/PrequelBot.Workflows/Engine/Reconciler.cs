using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Re-drives onboardings whose queued work was lost (the in-memory Hangfire queue after a restart, a crashed
/// worker), expires unanswered prompts and catches lagging chat cards up. Runs at start-up and periodically;
/// every action it takes is also safe when the work was not lost (jobs re-check state).
/// </summary>
public sealed partial class Reconciler(
    IStateStore store,
    OnboardingUpdater updater,
    IWorkScheduler scheduler,
    ISecretStore secrets,
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
    public async Task<int> ReconcileAsync(bool startup, CancellationToken cancellationToken)
    {
        var grace = options.CurrentValue.ReconcileInterval;
        var assumeQueueLost = startup && topology.VolatileJobQueue;
        var voidLeases = startup && topology.SingleNode;
        var redriven = 0;
        foreach (var id in await store.ListActiveIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            var aggregate = await store.LoadAsync(id, cancellationToken).ConfigureAwait(false);
            if (aggregate is null || OnboardingStates.IsFinished(aggregate.Onboarding.State)) continue;
            var now = time.GetUtcNow();
            if (aggregate.Approvals.Any(a => a.State == ApprovalStates.Pending && a.ExpiresAt <= now))
            {
                await ExpireAsync(id, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (voidLeases && aggregate.CurrentStep is { State: StepStates.Running, LeaseUntil: not null } running)
            {
                aggregate = await VoidLeaseAsync(id, running.Name, cancellationToken).ConfigureAwait(false) ?? aggregate;
            }
            var step = aggregate.CurrentStep;
            var stale = assumeQueueLost || aggregate.Onboarding.UpdatedAt < now - grace;
            var due = step is null ? stale : step.State switch
            {
                StepStates.Pending or StepStates.Approved => stale,
                StepStates.Running => step.LeaseUntil is null || step.LeaseUntil < now,
                StepStates.Waiting => step.NextCheckAt is null || (assumeQueueLost ? true : step.NextCheckAt < now - grace),
                _ => false,
            };
            if (!due) continue;
            if (step is { State: StepStates.Waiting, NextCheckAt: { } next } && next > now)
                scheduler.RunStepLater(id, step.Name, next - now);
            else
                scheduler.RunStep(id, step?.Name ?? StepNames.Discover);
            redriven++;
            LogRedriven(logger, id, step?.Name ?? "-", step?.State ?? "-");
        }
        foreach (var id in await store.ListChatPendingIdsAsync(cancellationToken).ConfigureAwait(false))
        {
            scheduler.SyncChat(id);
        }
        return redriven;
    }

    private Task<Domain.OnboardingAggregate?> VoidLeaseAsync(string onboardingId, string stepName, CancellationToken cancellationToken) =>
        updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var s = agg.Step(stepName);
            if (s.State != StepStates.Running || s.LeaseUntil is null) return OnboardingUpdater.Change.Skip;
            s.LeaseOwner = null;
            s.LeaseUntil = null;
            audit.Add(updater.Audit(agg.Id, AuditEvent.System, "lease-voided", $"{stepName}: the previous process stopped while the step ran"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken);

    private async Task ExpireAsync(string onboardingId, CancellationToken cancellationToken)
    {
        await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var now = time.GetUtcNow();
            var expired = agg.Approvals.Where(a => a.State == ApprovalStates.Pending && a.ExpiresAt <= now).ToList();
            if (expired.Count == 0 || OnboardingStates.IsFinished(agg.Onboarding.State)) return OnboardingUpdater.Change.Skip;
            foreach (var a in expired)
            {
                a.State = ApprovalStates.Expired;
                var s = agg.Step(a.Step);
                if (s.State == StepStates.AwaitingApproval) s.State = StepStates.Cancelled;
                s.Detail = "approval expired";
                audit.Add(updater.Audit(agg.Id, AuditEvent.System, "approval-expired", $"{a.Step}: {a.Id}"));
            }
            var ob = agg.Onboarding;
            ob.State = OnboardingStates.Cancelled;
            ob.Message = $"Cancelled: nobody decided on {string.Join(", ", expired.Select(e => e.Step))} before the prompt expired.";
            foreach (var s in agg.Steps.Where(s => s.State is StepStates.Pending)) s.State = StepStates.Cancelled;
            audit.Add(updater.Audit(agg.Id, AuditEvent.System, "cancelled", "approval timeout"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        await secrets.EraseAsync(onboardingId, cancellationToken).ConfigureAwait(false);
        LogExpired(logger, onboardingId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciler re-drove onboarding {OnboardingId} at step {Step} ({StepState})")]
    private static partial void LogRedriven(ILogger logger, string onboardingId, string step, string stepState);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId} cancelled: an approval prompt expired")]
    private static partial void LogExpired(ILogger logger, string onboardingId);
}
