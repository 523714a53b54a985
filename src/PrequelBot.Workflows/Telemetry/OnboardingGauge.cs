using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Telemetry;

/// <summary>
/// The <c>prequelbot.onboardings</c> gauge (kind, state): how many onboardings the store holds in each state. A metric
/// collection never waits for the database: it reports the last counts read and, when they are older than
/// <see cref="MaxAge"/>, starts one background re-read (<see cref="IOnboardingStore.CountByStateAsync"/>, one grouped
/// query). With PostgreSQL every node reports the same shared counts: aggregate with <c>max</c>, not <c>sum</c>.
/// </summary>
public sealed partial class OnboardingGauge : IDisposable
{
    /// <summary>Counts older than this are re-read at the next collection.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    private static readonly ConcurrentDictionary<OnboardingGauge, byte> Live = new();
    private static readonly ObservableGauge<long> Gauge = PrequelBotTelemetry.Meter.CreateObservableGauge(
        "prequelbot.onboardings", ObserveAll, "{onboarding}", "Onboardings by kind and state.");

    private readonly IOnboardingStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<OnboardingGauge> _logger;
    private IReadOnlyList<OnboardingCount> _counts = [];
    private DateTimeOffset _readAt = DateTimeOffset.MinValue;
    private int _refreshing;

    public OnboardingGauge(IOnboardingStore store, TimeProvider time, ILogger<OnboardingGauge> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _ = Gauge; // the instrument exists once per process; each gauge object feeds it while alive
        Live[this] = 0;
    }

    /// <summary>Re-reads the counts now (also called by a collection that finds them stale).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            _counts = await _store.CountByStateAsync(cancellationToken).ConfigureAwait(false);
            _readAt = _time.GetUtcNow();
        }
#pragma warning disable CA1031 // A metric must never fail the process; the store's own health is /readyz.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogRefreshFailed(_logger, exception.GetType().Name);
        }
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        if (_time.GetUtcNow() - _readAt > MaxAge && Interlocked.Exchange(ref _refreshing, 1) == 0)
        {
            _ = Task.Run(async () =>
            {
                try { await RefreshAsync(CancellationToken.None).ConfigureAwait(false); }
                finally { Volatile.Write(ref _refreshing, 0); }
            });
        }

        return _counts.Select(c => new Measurement<long>(c.Count,
            new KeyValuePair<string, object?>(PrequelBotTelemetry.Tags.Kind, c.Kind),
            new KeyValuePair<string, object?>(PrequelBotTelemetry.Tags.State, c.State)));
    }

    private static IEnumerable<Measurement<long>> ObserveAll() => Live.Keys.SelectMany(g => g.Observe()).ToList();

    public void Dispose() => Live.TryRemove(this, out _);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting onboardings for the prequelbot.onboardings gauge failed ({Error})")]
    private static partial void LogRefreshFailed(ILogger logger, string error);
}
