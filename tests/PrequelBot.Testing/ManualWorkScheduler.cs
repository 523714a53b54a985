using System.Collections.Concurrent;
using PrequelBot.Workflows.Engine;

namespace PrequelBot.Testing;

/// <summary>
/// An <see cref="IWorkScheduler"/> that only records work; a test runs it with <see cref="DrainAsync"/>, so engine
/// tests are deterministic and need no Hangfire server. Delays are recorded but not waited for.
/// </summary>
public sealed class ManualWorkScheduler : IWorkScheduler
{
    public sealed record Work(string Kind, string OnboardingId, string? Step, TimeSpan Delay);

    public ConcurrentQueue<Work> Pending { get; } = new();

    /// <summary>Everything ever scheduled, in order.</summary>
    public ConcurrentQueue<Work> History { get; } = new();

    private void Add(Work work)
    {
        Pending.Enqueue(work);
        History.Enqueue(work);
    }

    public void RunStep(string onboardingId, string stepName) => Add(new("step", onboardingId, stepName, TimeSpan.Zero));
    public void RunApprovedStep(string onboardingId, string stepName) => Add(new("approved-step", onboardingId, stepName, TimeSpan.Zero));
    public void RunStepLater(string onboardingId, string stepName, TimeSpan delay) => Add(new("step-later", onboardingId, stepName, delay));
    public void SyncChat(string onboardingId) => Add(new("chat", onboardingId, null, TimeSpan.Zero));
    public void SyncChatLater(string onboardingId, TimeSpan delay) => Add(new("chat-later", onboardingId, null, delay));

    /// <summary>
    /// Runs recorded work until none is left (or <paramref name="maxJobs"/> ran). Delayed step work runs only when
    /// <paramref name="includeDelayed"/>; otherwise it is kept for later.
    /// </summary>
    public async Task<int> DrainAsync(StepRunner runner, PrequelBot.Workflows.Chat.ChatOutbox outbox, bool includeDelayed = false, int maxJobs = 500, ManualClock? clock = null)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(outbox);
        var ran = 0;
        var kept = new List<Work>();
        while (ran < maxJobs && Pending.TryDequeue(out var work))
        {
            if (work.Kind == "step-later" && !includeDelayed)
            {
                kept.Add(work);
                continue;
            }
            if (work.Kind == "step-later" && clock is not null) clock.Advance(work.Delay);
            if (work.Kind is "chat" or "chat-later") await outbox.SyncAsync(work.OnboardingId, CancellationToken.None);
            else await runner.RunAsync(work.OnboardingId, CancellationToken.None);
            ran++;
        }
        foreach (var k in kept) Pending.Enqueue(k);
        return ran;
    }
}
