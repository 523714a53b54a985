using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Tests;

/// <summary>
/// The chat outbox under contention (found by the two-node end-to-end test, docs/feat/e2e.md): a sync that finds another
/// sync of the same onboarding running must not start a chain of retries (under load those chains outgrew the workers
/// and starved the step jobs); the running sync catches up on what changed meanwhile instead.
/// </summary>
public sealed class ChatOutboxLeaseTests : IDisposable
{
    private readonly EngineFixture _f = new();

    public void Dispose() => _f.Dispose();

    private OnboardingUpdater Updater => _f.Services.GetRequiredService<OnboardingUpdater>();

    private async Task SetMessageAsync(string id, string message) =>
        Assert.NotNull((await Updater.UpdateAsync(id, agg =>
        {
            // Not a state: the message is what the card shows, set here through the test's internals access.
            agg.Onboarding.Message = message;
            return Transition.None() with { Changed = true };
        }, CancellationToken.None)).Saved);

    [Fact]
    public async Task A_sync_that_finds_another_sync_running_ends_without_scheduling_a_retry()
    {
        var id = await _f.ConnectAsync();
        await SetMessageAsync(id, "changed");
        // Another node's sync holds the lease (real time: the store compares leases with its own clock).
        Assert.True(await _f.Store.TryAcquireLeaseAsync("chat:" + id, "another-node", DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None));
        var scheduledBefore = _f.Work.History.Count;
        var callsBefore = _f.Chat.Calls.Count;

        await _f.Services.GetRequiredService<ChatOutbox>().SyncAsync(id, CancellationToken.None);

        Assert.Equal(scheduledBefore, _f.Work.History.Count);
        Assert.Equal(callsBefore, _f.Chat.Calls.Count);
        var aggregate = await _f.LoadAsync(id);
        Assert.True(aggregate.Onboarding.ChatVersion > await _f.Store.GetChatSyncedVersionAsync(id, CancellationToken.None), "the change is still waiting for the lease holder");
    }

    [Fact]
    public async Task A_change_saved_while_a_sync_held_the_lease_is_shown_by_that_sync_after_it_releases_it()
    {
        var id = await _f.ConnectAsync();
        await SetMessageAsync(id, "first");
        ChatOutbox outbox = null!;
        var platform = new InterleavingChatPlatform(_f.Chat, async () =>
        {
            // While the holder is updating the card: a step saves, and that save's own sync finds the lease taken.
            await SetMessageAsync(id, "second");
            await outbox.SyncAsync(id, CancellationToken.None);
        });
        // The system clock: the store compares leases with real time, and the holder's lease must not look expired.
        outbox = new ChatOutbox(_f.Store, _f.Store, _f.Store, [platform], _f.Work, TimeProvider.System, NullLogger<ChatOutbox>.Instance);

        await outbox.SyncAsync(id, CancellationToken.None);

        Assert.Equal("second", Assert.Single(_f.Chat.Cards).Message);
        var aggregate = await _f.LoadAsync(id);
        Assert.Equal(aggregate.Onboarding.ChatVersion, await _f.Store.GetChatSyncedVersionAsync(id, CancellationToken.None));
        Assert.DoesNotContain(_f.Work.History, w => w.Kind == "chat-later");
    }

    /// <summary>Delegates to <paramref name="inner"/>; runs <paramref name="during"/> once, inside the first card update.</summary>
    private sealed class InterleavingChatPlatform(RecordingChatPlatform inner, Func<Task> during) : IChatPlatform
    {
        private int _ran;

        public string Platform => inner.Platform;

        public Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, ChatPost post, CancellationToken cancellationToken) =>
            inner.PostCardAsync(conversation, card, post, cancellationToken);

        public async Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _ran, 1) == 0) await during();
            await inner.UpdateCardAsync(message, card, cancellationToken);
        }

        public Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, ChatPost post, CancellationToken cancellationToken) =>
            inner.PostPromptAsync(conversation, card, prompt, post, cancellationToken);

        public Task<ChatLookup> FindPostedAsync(ConversationRef conversation, ChatMessageRef? card, ChatPost post, CancellationToken cancellationToken) =>
            inner.FindPostedAsync(conversation, card, post, cancellationToken);

        public Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken) =>
            inner.UpdatePromptAsync(message, prompt, cancellationToken);

        public Task<ChatMessageRef> PostNoticeAsync(ConversationRef conversation, ChatNoticeView notice, ChatPost post, CancellationToken cancellationToken) =>
            inner.PostNoticeAsync(conversation, notice, post, cancellationToken);
    }
}
