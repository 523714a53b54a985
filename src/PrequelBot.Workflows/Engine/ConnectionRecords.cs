using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// A connected database: its latest completed <c>connect</c>, the change record of every connect since the last
/// disconnect, and the onboarding of it (any kind) that is active now, if any.
/// </summary>
public sealed record Connection(OnboardingAggregate LastConnect, ChangeRecord Changes, string? ActiveOnboardingId = null);

/// <summary>
/// Finds what this bot created for a database (docs/workflow.md, "The change record"): the records of its <c>connect</c>
/// onboardings since its last completed <c>disconnect</c>, merged. A database is connected when one of those completed.
/// </summary>
public sealed class ConnectionRecords(IOnboardingStore store)
{
    /// <summary>The connection of <paramref name="databaseKey"/>, or null when no connect completed since the last disconnect.</summary>
    public async Task<Connection?> FindAsync(string databaseKey, CancellationToken cancellationToken)
    {
        var all = new List<OnboardingAggregate>();
        foreach (var id in await store.ListIdsOfDatabaseAsync(databaseKey, cancellationToken))
        {
            if (await store.LoadAsync(id, cancellationToken) is { } loaded) all.Add(loaded);
        }
        var connects = new List<OnboardingAggregate>();
        // Newest first; on equal start times a day-two onboarding is the later one (it can only start after a connect).
        foreach (var aggregate in all.OrderByDescending(a => a.Onboarding.CreatedAt).ThenBy(a => a.Onboarding.Request.Kind == OnboardingKind.Connect ? 1 : 0))
        {
            var kind = aggregate.Onboarding.Request.Kind;
            if (kind == OnboardingKind.Disconnect && aggregate.State == OnboardingState.Completed) break;
            if (kind == OnboardingKind.Connect) connects.Add(aggregate);
        }
        var last = connects.FirstOrDefault(c => c.State == OnboardingState.Completed);
        if (last is null) return null;
        var merged = new ChangeRecord();
        // Oldest first: the first connect's "previous public flag" is the one from before the bot changed anything.
        for (var i = connects.Count - 1; i >= 0; i--) merged.Merge(connects[i].Onboarding.Facts.Changes);
        var active = all.FirstOrDefault(a => a.State.IsActive())?.Onboarding.Id;
        return new Connection(last, merged, active);
    }
}
