using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Every service's one way to change an onboarding: load → one transition of <see cref="OnboardingAggregate"/> → save
/// with compare-and-set, retried on conflicts (the transition sees fresh state every time, so its checks hold when the
/// save succeeds). After a save it runs what the transition asked for: the follow-up job, the chat catch-up, and the
/// leave hook that erases secrets (docs/architecture.md, "One way to change an onboarding").
/// </summary>
public sealed class OnboardingUpdater(IOnboardingStore store, IWorkScheduler scheduler, ISecretStore secrets, TimeProvider time)
{
    /// <summary>The saved aggregate (null when nothing was saved) and what the transition said.</summary>
    public sealed record Result(OnboardingAggregate? Saved, Transition Transition);

    /// <summary>
    /// Loads, applies <paramref name="transition"/> and saves; repeats on conflict. A transition that changes nothing chat
    /// shows (<see cref="Transition.ChatUnchanged"/>: a lease heartbeat, a re-check finding nothing new) does not ask chat
    /// to catch up.
    /// </summary>
    public async Task<Result> UpdateAsync(string onboardingId, Func<OnboardingAggregate, Transition> transition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transition);
        for (var attempt = 0; ; attempt++)
        {
            var aggregate = await store.LoadAsync(onboardingId, cancellationToken);
            if (aggregate is null) return new Result(null, Transition.None());
            var outcome = transition(aggregate);
            if (!outcome.Changed) return new Result(null, outcome);
            var expected = aggregate.Onboarding.Version;
            aggregate.Onboarding.UpdatedAt = time.GetUtcNow();
            if (!outcome.ChatUnchanged) aggregate.Onboarding.ChatVersion++;
            if (await store.TrySaveAsync(aggregate, expected, cancellationToken))
            {
                await AfterSaveAsync(aggregate, outcome, cancellationToken);
                return new Result(aggregate, outcome);
            }
            if (attempt >= 20) throw new InvalidOperationException($"Onboarding {onboardingId} is changing too often to save; try again.");
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(5, 25 * (attempt + 1))), cancellationToken);
        }
    }

    /// <summary>Stores a new onboarding and asks for its card and first step.</summary>
    public async Task CreateAsync(OnboardingAggregate aggregate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        await store.CreateAsync(aggregate, cancellationToken);
        await AfterSaveAsync(aggregate, Transition.Saved(FollowUp.RunStep), cancellationToken);
    }

    private async Task AfterSaveAsync(OnboardingAggregate aggregate, Transition outcome, CancellationToken cancellationToken)
    {
        var erase = aggregate.SecretsToErase;
        aggregate.Saved();
        // The leave hook: the onboarding ended (or a step ended after a cancel), so nothing may keep its secrets.
        if (erase) await secrets.EraseAsync(aggregate.Id, CancellationToken.None);
        if (!outcome.ChatUnchanged) scheduler.SyncChat(aggregate.Id);
        if (aggregate.State.IsFinished()) return;
        var step = aggregate.CurrentStep?.Name;
        switch (outcome.FollowUp)
        {
            case FollowUp.RunStep:
                scheduler.RunStep(aggregate.Id, step ?? StepCatalogue.Of(aggregate.Onboarding.Request.Kind).Steps[^1].Name);
                break;
            case FollowUp.RunApprovedStep when step is not null:
                scheduler.RunApprovedStep(aggregate.Id, step);
                break;
            case FollowUp.RunStepLater when step is not null:
                scheduler.RunStepLater(aggregate.Id, step, outcome.Delay);
                break;
        }
    }
}
