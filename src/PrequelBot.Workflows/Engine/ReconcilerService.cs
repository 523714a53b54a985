using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Runs the <see cref="Reconciler"/> once at start-up (treating the job queue as lost when it is in memory) and
/// then every <see cref="WorkflowOptions.ReconcileInterval"/>. With several nodes a lease lets one node at a time do it.
/// </summary>
public sealed partial class ReconcilerService(
    Reconciler reconciler,
    ILeaseStore store,
    IOptionsMonitor<WorkflowOptions> options,
    TimeProvider time,
    ILogger<ReconcilerService> logger) : BackgroundService
{
    private readonly string _owner = Ids.NewLeaseOwner();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var interval = options.CurrentValue.ReconcileInterval;
                if (first || await store.TryAcquireLeaseAsync("reconciler", _owner, time.GetUtcNow() + interval, stoppingToken).ConfigureAwait(false))
                {
                    var redriven = await reconciler.ReconcileAsync(first, stoppingToken).ConfigureAwait(false);
                    if (first && redriven > 0) LogResumed(logger, redriven);
                }
                first = false;
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
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
