using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Runs the <see cref="Reconciler"/> once at start-up (treating the job queue as lost when it is in memory), then at
/// every <see cref="WorkflowOptions.ReconcileInterval"/>, and in between exactly when the last pass said work falls
/// due (a lease lapses, queued work is overdue). With several nodes one node at a time holds the short "reconciler"
/// lease, renewed every <see cref="Tick"/>; when that node dies another takes over within three ticks
/// (docs/workflow.md, "Losing a node").
/// </summary>
public sealed partial class ReconcilerService(
    Reconciler reconciler,
    ILeaseStore store,
    IOptionsMonitor<WorkflowOptions> options,
    TimeProvider time,
    ILogger<ReconcilerService> logger) : BackgroundService
{
    /// <summary>How often the lease is renewed or tried for: one small UPDATE per node.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Soonest = TimeSpan.FromMilliseconds(100);

    private readonly string _owner = Ids.NewLeaseOwner();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = true;
        var nextPass = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var interval = options.CurrentValue.ReconcileInterval;
                var tick = interval < Tick ? interval : Tick;
                var now = time.GetUtcNow();
                var nextWake = nextPass;
                if (first || await store.TryAcquireLeaseAsync("reconciler", _owner, now + 3 * tick, stoppingToken).ConfigureAwait(false))
                {
                    if (now >= nextPass)
                    {
                        var pass = await reconciler.ReconcileAsync(first, stoppingToken).ConfigureAwait(false);
                        if (first && pass.Redriven > 0) LogResumed(logger, pass.Redriven);
                        var sweep = time.GetUtcNow() + interval;
                        nextPass = pass.NextDue is { } due && due < sweep ? due : sweep;
                        nextWake = nextPass;
                    }
                    else
                    {
                        // Between sweeps, every tick: a step claimed since the last sweep is taken over as soon as its
                        // lease lapses, not at the next sweep (bench/README.md, "Losing a node mid-step").
                        var watch = await reconciler.RedriveLapsedLeasesAsync(stoppingToken).ConfigureAwait(false);
                        if (watch.NextDue is { } lapse && lapse < nextWake) nextWake = lapse;
                    }
                }
                else
                {
                    nextPass = now; // another node reconciles; pass at once if its lease lapses
                    nextWake = nextPass;
                }
                first = false;
                var wait = nextWake - time.GetUtcNow();
                await Task.Delay(wait < Soonest ? Soonest : wait > tick ? tick : wait, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(5), time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Resumed {Count} onboardings after start-up")]
    private static partial void LogResumed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconciler pass failed; retrying shortly")]
    private static partial void LogFailed(ILogger logger, Exception error);
}
