using Microsoft.Extensions.Options;

namespace PrequelBot.Workflows.Options;

/// <summary><c>Drift</c> section (docs/workflow.md, "Drift").</summary>
public sealed class DriftOptions
{
    public const string Section = "Drift";

    /// <summary>
    /// How often each connected database is checked again (<c>check</c>); <see cref="TimeSpan.Zero"/> turns the drift watch
    /// off. Default one day.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromDays(1);
}

/// <summary>Validates <c>Drift</c>.</summary>
public sealed class DriftOptionsValidator : IValidateOptions<DriftOptions>
{
    /// <summary>The shortest interval: the recurring sweep runs at most this often.</summary>
    public static readonly TimeSpan MinimumInterval = TimeSpan.FromSeconds(1);

    public ValidateOptionsResult Validate(string? name, DriftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Interval < TimeSpan.Zero || (options.Interval > TimeSpan.Zero && options.Interval < MinimumInterval))
            return ValidateOptionsResult.Fail($"Drift:Interval must be 00:00:00 (off) or at least {MinimumInterval}, e.g. 1.00:00:00 (got '{options.Interval}').");
        return ValidateOptionsResult.Success;
    }
}
