using System.Collections.Concurrent;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// Handles each Socket Mode envelope once, by <c>envelope_id</c>, across this process's connections and Slack's retries
/// (Slack re-sends an unacknowledged envelope, possibly on the other connection). A repeat gets the first delivery's
/// answer, so both deliveries are acknowledged with the same payload. Ids are remembered for <see cref="Memory"/>,
/// longer than Slack retries (docs/slack-socket-mode.md). Thread-safe.
/// </summary>
public sealed class SlackEnvelopeDeduplicator(TimeProvider clock)
{
    /// <summary>How long an envelope id is remembered.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<string, Entry> _seen = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    /// <summary>
    /// The answer to envelope <paramref name="envelopeId"/>: <paramref name="handle"/> runs for its first delivery only;
    /// <paramref name="first"/> says whether this call started it.
    /// </summary>
    public Task<SlackAnswer> HandleOnceAsync(string envelopeId, Func<Task<SlackAnswer>> handle, out bool first)
    {
        ArgumentException.ThrowIfNullOrEmpty(envelopeId);
        ArgumentNullException.ThrowIfNull(handle);
        var now = clock.GetUtcNow();
        Sweep(now);
        var mine = new Entry(new Lazy<Task<SlackAnswer>>(handle, LazyThreadSafetyMode.ExecutionAndPublication), now);
        var entry = _seen.GetOrAdd(envelopeId, mine);
        first = ReferenceEquals(entry, mine);
        return entry.Answer.Value;
    }

    /// <summary>How many envelope ids are remembered (for tests).</summary>
    public int Count => _seen.Count;

    private void Sweep(DateTimeOffset now)
    {
        var next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next || Interlocked.CompareExchange(ref _nextSweepTicks, now.UtcTicks + TimeSpan.TicksPerMinute, next) != next) return;
        foreach (var (id, entry) in _seen)
        {
            if (now - entry.At > Memory) _seen.TryRemove(id, out _);
        }
    }

    private sealed record Entry(Lazy<Task<SlackAnswer>> Answer, DateTimeOffset At);
}
