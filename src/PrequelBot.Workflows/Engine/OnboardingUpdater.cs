using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Applies a change to the latest stored onboarding with compare-and-set, retrying on conflicts. The change
/// function sees fresh state every time, so its checks ("is the step still running under my lease?") hold
/// when the save succeeds. Every save bumps the chat version and asks the chat outbox to catch up.
/// </summary>
public sealed class OnboardingUpdater(IStateStore store, IWorkScheduler scheduler, TimeProvider time)
{
    /// <summary>Outcome of a change function.</summary>
    public enum Change { Save, Skip }

    /// <summary>
    /// Loads, applies <paramref name="change"/> (which may add audit events) and saves; repeats on conflict.
    /// Returns the saved aggregate, or null when the onboarding does not exist or the change chose to skip.
    /// </summary>
    public async Task<OnboardingAggregate?> UpdateAsync(string onboardingId, Func<OnboardingAggregate, List<AuditEvent>, Change> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        for (var attempt = 0; ; attempt++)
        {
            var aggregate = await store.LoadAsync(onboardingId, cancellationToken).ConfigureAwait(false);
            if (aggregate is null) return null;
            var audit = new List<AuditEvent>();
            if (change(aggregate, audit) == Change.Skip) return null;
            var expected = aggregate.Onboarding.Version;
            aggregate.Onboarding.UpdatedAt = time.GetUtcNow();
            aggregate.Onboarding.ChatVersion++;
            if (await store.TrySaveAsync(aggregate, expected, audit, cancellationToken).ConfigureAwait(false))
            {
                scheduler.SyncChat(onboardingId);
                return aggregate;
            }
            if (attempt >= 20) throw new InvalidOperationException($"Onboarding {onboardingId} is changing too often to save; try again.");
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25 * (attempt + 1))), cancellationToken).ConfigureAwait(false);
        }
    }

    public AuditEvent Audit(string onboardingId, string actor, string action, string? detail = null) =>
        new(onboardingId, time.GetUtcNow(), actor, action, detail);
}
