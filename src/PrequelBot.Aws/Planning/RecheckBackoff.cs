namespace PrequelBot.Aws.Planning;

/// <summary>
/// Delay before the next re-check of a waiting step: 15 s, 30 s, then 60 s (cap), each ±20 % jitter. Pure given the random source.
/// </summary>
public sealed class RecheckBackoff(Random random)
{
    public static readonly TimeSpan Initial = TimeSpan.FromSeconds(15);
    public static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);
    public const double Jitter = 0.2;

    public RecheckBackoff() : this(Random.Shared) { }

    /// <param name="attempt">1 for the first re-check.</param>
    /// <remarks>The engine's one back-off (<see cref="PrequelBot.Workflows.Engine.Backoff"/>) with the re-check bounds.</remarks>
    public TimeSpan Delay(int attempt) => PrequelBot.Workflows.Engine.Backoff.Delay(attempt, Initial, Cap, random);
}
