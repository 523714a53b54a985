namespace PrequelBot.Workflows.Engine;

/// <summary>Exponential back-off with jitter: initial × 2^(attempt-1), capped, ±20 %.</summary>
public static class Backoff
{
    public static TimeSpan Delay(int attempt, TimeSpan initial, TimeSpan max, Random? random = null)
    {
        var exponent = Math.Clamp(attempt - 1, 0, 20);
        var baseMs = Math.Min(initial.TotalMilliseconds * Math.Pow(2, exponent), max.TotalMilliseconds);
        var jitter = 0.8 + ((random ?? Random.Shared).NextDouble() * 0.4);
        return TimeSpan.FromMilliseconds(Math.Max(0, baseMs * jitter));
    }
}
