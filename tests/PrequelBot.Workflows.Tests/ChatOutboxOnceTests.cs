using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Tests;

/// <summary>
/// The outbox posts each card and prompt once (docs/chat-outbox.md): a post whose answer was lost (a crash right after
/// the platform kept it) is looked up and adopted where the platform can list messages (Slack), and replaced by a post
/// that says so where it cannot (Teams), with either copy deciding the same approval; an update never shows an older state.
/// </summary>
public sealed class ChatOutboxOnceTests : IDisposable
{
    private readonly EngineFixture _f = new();

    public void Dispose() => _f.Dispose();

    private ChatOutbox Outbox => _f.Services.GetRequiredService<ChatOutbox>();

    private static bool IsPrompt(ChatPost post) => post.Key.StartsWith("prompt:", StringComparison.Ordinal);

    /// <summary>Drains; the sync whose answer was lost fails once (as the crashed node did), and the work goes on.</summary>
    private async Task DrainThroughLostAnswerAsync(string id)
    {
        await Assert.ThrowsAsync<HttpRequestException>(() => _f.DrainAsync());
        await Outbox.SyncAsync(id, CancellationToken.None); // the reconciler's re-drive after the restart
        await _f.DrainAsync();
    }

    [Fact]
    public async Task A_card_whose_post_answer_was_lost_is_found_and_adopted_not_posted_again()
    {
        var reply = await _f.SayAsync("connect mydb");
        var id = reply.StartedOnboardingId!;
        _f.Chat.LoseAnswerOf = post => post.Key == ChatOutbox.CardKey;

        await DrainThroughLostAnswerAsync(id);

        Assert.Single(_f.Chat.Cards);
        Assert.Contains("find-card", _f.Chat.Calls);
        Assert.Single(_f.Chat.Calls, c => c == "post-card");
        // Adopted with no fingerprint: updated to what the onboarding shows now.
        Assert.Equal(OnboardingStates.AwaitingApproval, Assert.Single(_f.Chat.Cards).State);
        Assert.Single(_f.Chat.Prompts);
    }

    [Fact]
    public async Task A_prompt_whose_post_answer_was_lost_is_found_in_the_thread_and_decided_once()
    {
        var reply = await _f.SayAsync("connect mydb");
        var id = reply.StartedOnboardingId!;
        _f.Chat.LoseAnswerOf = IsPrompt;

        await DrainThroughLostAnswerAsync(id);
        var result = await _f.ClickAsync(id, EngineFixture.Approver);

        Assert.Equal(DecisionOutcome.Recorded, result.Outcome);
        Assert.Contains("find-prompt", _f.Chat.Calls);
        var prompts = _f.Chat.Prompts.Where(p => p.Step == StepNames.PublicAccess).ToList();
        var prompt = Assert.Single(prompts);
        Assert.Equal(ApprovalStates.Approved, prompt.State);
        Assert.False(prompt.ReplacesEarlier);
    }

    [Fact]
    public async Task Where_the_platform_cannot_look_up_a_replacement_prompt_says_so_and_a_click_on_either_counts_once()
    {
        _f.Chat.CanLookUp = false; // Teams: the Connector cannot list the bot's activities
        var reply = await _f.SayAsync("connect mydb");
        var id = reply.StartedOnboardingId!;
        _f.Chat.LoseAnswerOf = IsPrompt;

        await DrainThroughLostAnswerAsync(id);
        var copies = _f.Chat.Prompts.Where(p => p.Step == StepNames.PublicAccess).ToList();
        var first = await _f.Decider.DecideAsync(copies[0].ApprovalId, EngineFixture.Approver, approve: true, CancellationToken.None);
        var second = await _f.Decider.DecideAsync(copies[1].ApprovalId, EngineFixture.Approver, approve: false, CancellationToken.None);
        await _f.DrainAsync();

        Assert.Equal(2, copies.Count);
        Assert.Equal(copies[0].ApprovalId, copies[1].ApprovalId);
        Assert.Single(copies, p => p.ReplacesEarlier);
        Assert.Equal(DecisionOutcome.Recorded, first.Outcome);
        Assert.NotEqual(DecisionOutcome.Recorded, second.Outcome);
        var approval = Assert.Single((await _f.LoadAsync(id)).Approvals, a => a.Step == StepNames.PublicAccess);
        Assert.Equal(ApprovalState.Approved, approval.State);
        // The replacement, which the outbox keeps current, shows the decision and still says it replaces the earlier one.
        var kept = Assert.Single(_f.Chat.Prompts, p => p.Step == StepNames.PublicAccess && p.ReplacesEarlier);
        Assert.Equal(ApprovalStates.Approved, kept.State);
    }

    [Fact]
    public async Task A_post_the_platform_refused_with_a_rate_limit_is_not_looked_up_before_it_is_posted_again()
    {
        var reply = await _f.SayAsync("connect mydb");
        var id = reply.StartedOnboardingId!;
        _f.Chat.RateLimitedCalls = 1;

        await _f.DrainAsync(includeDelayed: true);
        await Outbox.SyncAsync(id, CancellationToken.None);

        Assert.Single(_f.Chat.Cards);
        Assert.DoesNotContain("find-card", _f.Chat.Calls);
    }

    [Fact]
    public async Task An_update_older_than_one_already_claimed_is_not_sent()
    {
        var id = await _f.ConnectAsync();
        var updatesBefore = _f.Chat.Calls.Count(c => c == "update-card");
        // Another sync already claimed a newer state of the card (it is being shown).
        Assert.True(await _f.Store.TryClaimChatUpdateAsync(id, ChatOutbox.CardKey, 1_000, "pending:newer", CancellationToken.None));
        await _f.Services.GetRequiredService<OnboardingUpdater>().UpdateAsync(id, agg =>
        {
            agg.Onboarding.Message = "changed";
            return Transition.None() with { Changed = true };
        }, CancellationToken.None);

        await _f.DrainAsync();

        Assert.Equal(updatesBefore, _f.Chat.Calls.Count(c => c == "update-card"));
    }
}
