namespace PrequelBot.Prequel;

/// <summary>
/// Back-off of Prequel calls (not a configuration section: defaults per the Prequel spec, tests shorten them
/// with <c>services.Configure&lt;PrequelRetryOptions&gt;</c>).
/// </summary>
public sealed class PrequelRetryOptions
{
    /// <summary>Attempts in all, including the first. Default 5.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>First back-off delay (exponential with jitter). Default 1 s.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest delay, also the cap on a Retry-After. Default 60 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Timeout of one request. Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most list pages followed. Default 100.</summary>
    public int MaxPages { get; set; } = 100;
}
