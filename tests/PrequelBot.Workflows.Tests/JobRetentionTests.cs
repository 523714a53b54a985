using Hangfire;
using Hangfire.Common;
using Hangfire.InMemory;
using Hangfire.States;
using PrequelBot.Workflows.Jobs;

namespace PrequelBot.Workflows.Tests;

/// <summary>Succeeded runs of steps and chat syncs are kept one minute; deleted and other jobs the storage's 15 minutes (docs/architecture.md, "Jobs on PostgreSQL").</summary>
public sealed class JobRetentionTests : IDisposable
{
    private readonly InMemoryStorage _storage = new();

    public void Dispose() => _storage.Dispose();

    [Theory]
    [InlineData(typeof(StepJob), nameof(StepJob.RunLaterAsync), "Succeeded", 60)]
    [InlineData(typeof(StepJob), nameof(StepJob.RunAsync), "Succeeded", 60)]
    [InlineData(typeof(StepJob), nameof(StepJob.RunApprovedAsync), "Succeeded", 60)]
    [InlineData(typeof(ChatSyncJob), nameof(ChatSyncJob.SyncAsync), "Succeeded", 60)]
    [InlineData(typeof(StepJob), nameof(StepJob.RunLaterAsync), "Deleted", 15 * 60)]
    [InlineData(typeof(StepJob), nameof(StepJob.RunLaterAsync), "Failed", 15 * 60)]
    [InlineData(typeof(DriftJob), nameof(DriftJob.SweepAsync), "Succeeded", 15 * 60)]
    public void A_finished_run_expires_after_its_methods_retention(Type type, string method, string state, int expectedSeconds)
    {
        var target = type.GetMethod(method)!;
        var args = target.GetParameters().Select(p => p.ParameterType == typeof(CancellationToken) ? (object)CancellationToken.None : "ob-1").ToArray();
        var job = new Job(type, target, args);
        IState newState = state switch
        {
            "Succeeded" => new SucceededState(null, 1, 1),
            "Deleted" => new DeletedState(),
            _ => new FailedState(new InvalidOperationException("boom")),
        };
        using var connection = _storage.GetConnection();
        using var transaction = connection.CreateWriteTransaction();
        var context = new ApplyStateContext(_storage, connection, transaction, new BackgroundJob("1", job, DateTime.UtcNow), newState, "Processing")
        {
            JobExpirationTimeout = TimeSpan.FromMinutes(15),
        };

        // The filters Hangfire itself finds for the job's method, as its state changer applies them.
        foreach (var filter in JobFilterProviders.Providers.GetFilters(job).Select(f => f.Instance).OfType<IApplyStateFilter>())
            filter.OnStateApplied(context, transaction);

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), context.JobExpirationTimeout);
    }
}
