using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace PrequelBot.Workflows.Jobs;

/// <summary>
/// Keeps a succeeded run of the job for <see cref="Seconds"/> instead of the storage's retention (15 minutes, which
/// still applies to deleted jobs; failed ones stay until retried or deleted). For the jobs every onboarding runs many
/// times (steps, re-checks, chat syncs): a succeeded run is only dashboard history, the audit trail is the record, and
/// with 1,000 waiting onboardings the runs kept for 15 minutes were most of the memory (bench/README.md, "1,000
/// onboardings waiting on replicas").
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class KeepSucceededForAttribute(int seconds) : JobFilterAttribute, IApplyStateFilter
{
    public int Seconds { get; } = seconds >= 0 ? seconds : throw new ArgumentOutOfRangeException(nameof(seconds));

    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.NewState is SucceededState) context.JobExpirationTimeout = TimeSpan.FromSeconds(Seconds);
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }
}
