using System.Reflection;
using Hangfire;
using PrequelBot.Workflows.Engine;

namespace PrequelBot.Workflows.Jobs;

/// <summary>
/// <see cref="IWorkScheduler"/> on Hangfire: enqueue for now, schedule for later; queues come from the job attributes.
/// Jobs are built from the method and the ids (<see cref="JobCall"/>), not from expressions.
/// </summary>
public sealed class HangfireWorkScheduler(IBackgroundJobClient jobs) : IWorkScheduler
{
    private static readonly MethodInfo Run = JobCall.Method<StepJob>(nameof(StepJob.RunAsync));
    private static readonly MethodInfo RunApproved = JobCall.Method<StepJob>(nameof(StepJob.RunApprovedAsync));
    private static readonly MethodInfo RunLater = JobCall.Method<StepJob>(nameof(StepJob.RunLaterAsync));
    private static readonly MethodInfo Sync = JobCall.Method<ChatSyncJob>(nameof(ChatSyncJob.SyncAsync));

    public void RunStep(string onboardingId, string stepName) =>
        jobs.Enqueue(Run, onboardingId, stepName, CancellationToken.None);

    public void RunApprovedStep(string onboardingId, string stepName) =>
        jobs.Enqueue(RunApproved, onboardingId, stepName, CancellationToken.None);

    public void RunStepLater(string onboardingId, string stepName, TimeSpan delay) =>
        jobs.Schedule(delay, RunLater, onboardingId, stepName, CancellationToken.None);

    public void SyncChat(string onboardingId) =>
        jobs.Enqueue(Sync, onboardingId, CancellationToken.None);

    public void SyncChatLater(string onboardingId, TimeSpan delay) =>
        jobs.Schedule(delay, Sync, onboardingId, CancellationToken.None);
}
