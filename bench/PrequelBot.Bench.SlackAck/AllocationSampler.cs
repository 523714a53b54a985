using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace PrequelBot.Bench.SlackAck;

/// <summary>
/// <c>--alloc-types</c>: the runtime's own allocation sampling (the <c>GCAllocationTick</c> event, one per ~100 KB
/// allocated) in this process, summed by type, so a run says what the server allocates per request without a trace.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _counting;

    public void Start() => _counting = true;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_counting || e.EventName is null || !e.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.PayloadNames is null) return;
        var type = e.Payload![e.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var amount = Convert.ToInt64(e.Payload[e.PayloadNames.IndexOf("AllocationAmount64")], CultureInfo.InvariantCulture);
        _bytes.AddOrUpdate(type, amount, (_, total) => total + amount);
    }

    /// <summary>The types that took the most sampled bytes, as bytes per request.</summary>
    public void Print(long requests, int top = 25)
    {
        var total = _bytes.Values.Sum();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sampled allocations by type ({total / (double)requests:0} B/request sampled):"));
        foreach (var (type, bytes) in _bytes.OrderByDescending(p => p.Value).Take(top))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {bytes / (double)requests,7:0.0} B/request  {type}"));
    }
}
