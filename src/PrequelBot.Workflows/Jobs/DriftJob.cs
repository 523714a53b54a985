using System.ComponentModel;
using System.Reflection;
using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Workflows.Jobs;

/// <summary>
/// Hangfire entry points of the drift watch (docs/workflow.md, "Drift"). Arguments are database aliases only. Every
/// method may run more than once and concurrently: the sweep claims each due time with a compare-and-set, a check
/// holds its database's lease, and a notice is recorded as "sending" before it is posted. Type and method names are
/// stored with queued and recurring jobs: keep them.
/// </summary>
public sealed class DriftJob(DriftWatch watch, DriftNotices notices, IBackgroundJobClient jobs)
{
    /// <summary>The recurring job's id on the dashboard (Recurring jobs).</summary>
    public const string RecurringJobId = "drift-sweep";

    internal static readonly MethodInfo Sweep = JobCall.Method<DriftJob>(nameof(SweepAsync));
    private static readonly MethodInfo Check = JobCall.Method<DriftJob>(nameof(CheckAsync));
    private static readonly MethodInfo PostNotice = JobCall.Method<DriftJob>(nameof(PostNoticeAsync));

    /// <summary>The recurring sweep: enqueues one check per due database and one post per notice that has not reached chat.</summary>
    [Queue(JobQueues.Rechecks)]
    [AutomaticRetry(Attempts = 0)] // the next sweep is at most 15 minutes away (Cron)
    [DisableConcurrentExecution(60)]
    [DisplayName("drift sweep")]
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var sweep = await watch.SweepAsync(cancellationToken).ConfigureAwait(false);
        foreach (var alias in sweep.Due) jobs.Enqueue(Check, alias, CancellationToken.None);
        foreach (var alias in sweep.NoticesPending.Except(sweep.Due, StringComparer.Ordinal))
            jobs.Enqueue(PostNotice, alias, CancellationToken.None);
    }

    /// <summary>Checks one database; when what has drifted changed, its notice is stored and a post enqueued.</summary>
    [Queue(JobQueues.Rechecks)]
    [AutomaticRetry(Attempts = 2, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [DisplayName("drift check of {0}")]
    public async Task CheckAsync(string databaseAlias, CancellationToken cancellationToken)
    {
        if (await watch.CheckAsync(databaseAlias, cancellationToken).ConfigureAwait(false))
            jobs.Enqueue(PostNotice, databaseAlias, CancellationToken.None);
    }

    /// <summary>Posts the database's pending drift notice to the channel it was connected from. The sweep re-drives it if retries run out.</summary>
    [Queue(JobQueues.Chat)]
    [AutomaticRetry(Attempts = 8, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    [DisplayName("drift notice of {0}")]
    public Task PostNoticeAsync(string databaseAlias, CancellationToken cancellationToken) =>
        notices.PostPendingAsync(databaseAlias, cancellationToken);
}

/// <summary>
/// Registers the recurring <see cref="DriftJob.RecurringJobId"/> job at start-up (Hangfire's recurring scheduler fires it
/// once across all nodes of a storage), or removes it when <c>Drift:Interval</c> is <c>00:00:00</c>. Every node does the
/// same, so the last one started wins with the same definition.
/// </summary>
public sealed partial class DriftSchedule(IRecurringJobManager recurring, IOptions<DriftOptions> options, ILogger<DriftSchedule> logger) : IHostedService
{
    /// <summary>Minute steps that divide the hour, so a stepped cron fires at even spacing.</summary>
    private static readonly int[] MinuteSteps = [1, 2, 3, 4, 5, 6, 10, 12, 15];

    /// <summary>
    /// The sweep's cron. The sweep only enqueues checks that are due, so it runs often enough that a check is at most a
    /// sixtieth of the interval late (at most 15 minutes, at least every minute): every 15 minutes for the default day,
    /// every minute for an hour or less, every N seconds (Hangfire's six-field cron) for an interval under a minute.
    /// </summary>
    public static string Cron(TimeSpan interval)
    {
        if (interval < TimeSpan.FromMinutes(1))
        {
            var seconds = Math.Clamp((int)Math.Ceiling(interval.TotalSeconds), 1, 30);
            return seconds == 1 ? "* * * * * *" : $"*/{seconds} * * * * *";
        }
        var lateness = interval.TotalMinutes / 60;
        var step = MinuteSteps.LastOrDefault(m => m <= lateness, 1);
        return step == 1 ? "* * * * *" : $"*/{step} * * * *";
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var interval = options.Value.Interval;
        if (interval <= TimeSpan.Zero)
        {
            recurring.RemoveIfExists(DriftJob.RecurringJobId);
            LogOff(logger);
            return Task.CompletedTask;
        }
        var cron = Cron(interval);
        // The queue comes from the method's [Queue] attribute (works on every storage; a queue argument needs storage support).
        recurring.AddOrUpdate(DriftJob.RecurringJobId, JobCall.Of(DriftJob.Sweep, CancellationToken.None), cron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
        LogOn(logger, interval, cron);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift watch: every {Interval} per connected database (sweep cron {Cron})")]
    private static partial void LogOn(ILogger logger, TimeSpan interval, string cron);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift watch: off (Drift:Interval is 00:00:00); recurring job removed")]
    private static partial void LogOff(ILogger logger);
}
