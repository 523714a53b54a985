using System.ComponentModel;
using Hangfire;
using PrequelBot.Workflows.Engine;

namespace PrequelBot.Workflows.Jobs;

/// <summary>
/// Hangfire entry points that advance an onboarding. Arguments are ids only (they are stored and shown in the
/// dashboard). These jobs may run more than once and concurrently: <see cref="StepRunner"/> guards every
/// transition with a lease and a compare-and-set. Type and method names are stored with queued jobs: keep them.
/// </summary>
public sealed class StepJob(StepRunner runner)
{
    /// <summary>How long a succeeded run of a step or chat sync stays in Hangfire (docs/architecture.md, "Jobs on PostgreSQL").</summary>
    public const int SucceededRetentionSeconds = 60;

    /// <summary>Advances the current step (background queue). <paramref name="step"/> is informational.</summary>
    [Queue(JobQueues.Steps)]
    [AutomaticRetry(Attempts = 5, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [KeepSucceededFor(SucceededRetentionSeconds)]
    [DisplayName("{1} of {0}")]
    public Task RunAsync(string onboardingId, string step, CancellationToken cancellationToken) =>
        runner.RunAsync(onboardingId, cancellationToken);

    /// <summary>A scheduled re-run of the current step (a re-check or a back-off), on the re-checks queue.</summary>
    [Queue(JobQueues.Rechecks)]
    [AutomaticRetry(Attempts = 5, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [KeepSucceededFor(SucceededRetentionSeconds)]
    [DisplayName("{1} of {0} (re-check)")]
    public Task RunLaterAsync(string onboardingId, string step, CancellationToken cancellationToken) =>
        runner.RunAsync(onboardingId, cancellationToken);

    /// <summary>Runs a step a person just approved, on the dedicated approvals queue.</summary>
    [Queue(JobQueues.Approvals)]
    [AutomaticRetry(Attempts = 5, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [KeepSucceededFor(SucceededRetentionSeconds)]
    [DisplayName("{1} of {0} (approved)")]
    public Task RunApprovedAsync(string onboardingId, string step, CancellationToken cancellationToken) =>
        runner.RunAsync(onboardingId, cancellationToken);
}

/// <summary>Hangfire entry point of the chat outbox. Idempotent; the reconciler re-drives it if retries run out.</summary>
public sealed class ChatSyncJob(Chat.ChatOutbox outbox)
{
    [Queue(JobQueues.Chat)]
    [AutomaticRetry(Attempts = 8, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [KeepSucceededFor(StepJob.SucceededRetentionSeconds)]
    [DisplayName("chat card of {0}")]
    public Task SyncAsync(string onboardingId, CancellationToken cancellationToken) =>
        outbox.SyncAsync(onboardingId, cancellationToken);
}
