using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace PrequelBot.Workflows.Jobs;

/// <summary>
/// Keeps a finished (succeeded or deleted) run of the job for <see cref="Seconds"/> instead of the storage's default
/// retention. For jobs that repeat many times per onboarding, such as replica re-checks: each finished run is only
/// dashboard history (the audit trail is the record), and with 1,000 waiting onboardings the runs kept for 15 minutes
/// were most of the memory (bench/README.md, "1,000 onboardings waiting on replicas").
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KeepFinishedForAttribute(int seconds) : JobFilterAttribute, IApplyStateFilter
{
    public int Seconds { get; } = seconds >= 0 ? seconds : throw new ArgumentOutOfRangeException(nameof(seconds));

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.NewState is SucceededState or DeletedState) context.JobExpirationTimeout = TimeSpan.FromSeconds(Seconds);
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
