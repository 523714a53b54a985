using Hangfire;
using PrequelBot.Workflows.Engine;

namespace PrequelBot.Workflows.Jobs;

/// <summary><see cref="IWorkScheduler"/> on Hangfire: enqueue for now, schedule for later; queues come from the job attributes.</summary>
public sealed class HangfireWorkScheduler(IBackgroundJobClient jobs) : IWorkScheduler
{
    public void RunStep(string onboardingId, string stepName) =>
        jobs.Enqueue<StepJob>(j => j.RunAsync(onboardingId, stepName, CancellationToken.None));

    public void RunApprovedStep(string onboardingId, string stepName) =>
        jobs.Enqueue<StepJob>(j => j.RunApprovedAsync(onboardingId, stepName, CancellationToken.None));

    public void RunStepLater(string onboardingId, string stepName, TimeSpan delay) =>
        jobs.Schedule<StepJob>(j => j.RunLaterAsync(onboardingId, stepName, CancellationToken.None), delay);

    public void SyncChat(string onboardingId) =>
        jobs.Enqueue<ChatSyncJob>(j => j.SyncAsync(onboardingId, CancellationToken.None));

    public void SyncChatLater(string onboardingId, TimeSpan delay) =>
        jobs.Schedule<ChatSyncJob>(j => j.SyncAsync(onboardingId, CancellationToken.None), delay);
}
