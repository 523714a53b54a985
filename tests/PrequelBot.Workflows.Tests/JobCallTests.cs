using System.Linq.Expressions;
using Hangfire;
using Hangfire.Common;
using Hangfire.States;
using PrequelBot.Workflows.Jobs;
using Xunit;

namespace PrequelBot.Workflows.Tests;

/// <summary>
/// The jobs the scheduler and the drift watch build from a method and ids are the jobs Hangfire's expression API would
/// build: same type, method and arguments, no queue of their own (the method's [Queue] attribute decides), same state.
/// Jobs already stored by an older version therefore still run, and new ones look the same on the dashboard.
/// </summary>
public sealed class JobCallTests
{
    [Fact]
    public void Scheduler_jobs_equal_the_expression_jobs()
    {
        var client = new RecordingJobClient();
        var scheduler = new HangfireWorkScheduler(client);

        scheduler.RunStep("ob-1", "create-user");
        scheduler.RunApprovedStep("ob-1", "security-group");
        scheduler.RunStepLater("ob-1", "wait-replica", TimeSpan.FromSeconds(42));
        scheduler.SyncChat("ob-2");
        scheduler.SyncChatLater("ob-2", TimeSpan.FromSeconds(3));

        Assert.Collection(client.Created,
            c => AssertJob<StepJob>(c, j => j.RunAsync("ob-1", "create-user", CancellationToken.None), EnqueuedState.StateName),
            c => AssertJob<StepJob>(c, j => j.RunApprovedAsync("ob-1", "security-group", CancellationToken.None), EnqueuedState.StateName),
            c => AssertJob<StepJob>(c, j => j.RunLaterAsync("ob-1", "wait-replica", CancellationToken.None), ScheduledState.StateName, TimeSpan.FromSeconds(42)),
            c => AssertJob<ChatSyncJob>(c, j => j.SyncAsync("ob-2", CancellationToken.None), EnqueuedState.StateName),
            c => AssertJob<ChatSyncJob>(c, j => j.SyncAsync("ob-2", CancellationToken.None), ScheduledState.StateName, TimeSpan.FromSeconds(3)));
    }

    [Fact]
    public void Drift_sweep_job_equals_the_expression_job()
    {
        var made = JobCall.Of(DriftJob.Sweep, CancellationToken.None);
        AssertSame(Job.FromExpression<DriftJob>(j => j.SweepAsync(CancellationToken.None)), made);
    }

    [Fact]
    public void A_wrong_argument_list_is_refused_by_Hangfire()
    {
        var method = JobCall.Method<StepJob>(nameof(StepJob.RunAsync));
        Assert.Throws<ArgumentException>(() => JobCall.Of(method, "ob-1", CancellationToken.None));
    }

    [Fact]
    public void A_missing_method_fails_when_looked_up()
    {
        Assert.Throws<MissingMethodException>(() => JobCall.Method<StepJob>("NoSuchAsync"));
    }

    private static void AssertJob<T>((Job Job, IState State) created, Expression<Func<T, Task>> expected, string state, TimeSpan? delay = null)
    {
        AssertSame(Job.FromExpression(expected), created.Job);
        Assert.Equal(state, created.State.Name);
        if (created.State is ScheduledState scheduled)
        {
            Assert.NotNull(delay);
            Assert.InRange(scheduled.EnqueueAt - DateTime.UtcNow, delay.Value - TimeSpan.FromSeconds(5), delay.Value);
        }
        else
        {
            Assert.Null(delay);
            Assert.Equal(EnqueuedState.DefaultQueue, ((EnqueuedState)created.State).Queue);
        }
    }

    private static void AssertSame(Job expected, Job actual)
    {
        Assert.Equal(expected.Type, actual.Type);
        Assert.Equal(expected.Method, actual.Method);
        Assert.Equal(expected.Args, actual.Args);
        Assert.Equal(expected.Queue, actual.Queue);
        Assert.Equal(expected.ToString(), actual.ToString());
    }

    private sealed class RecordingJobClient : IBackgroundJobClient
    {
        public List<(Job Job, IState State)> Created { get; } = [];

        public string Create(Job job, IState state)
        {
            Created.Add((job, state));
            return Created.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool ChangeState(string jobId, IState state, string expectedState) => throw new NotSupportedException();
    }
}
