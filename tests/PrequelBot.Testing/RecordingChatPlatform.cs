using System.Collections.Concurrent;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Testing;

/// <summary>
/// An <see cref="IChatPlatform"/> that keeps every message in memory with the <see cref="ChatPost"/> it was posted as,
/// can refuse deliveries on demand, can lose the answer of a post that went through (as a crash right after the
/// platform answered does), and looks posts up like Slack (<see cref="CanLookUp"/>) or cannot, like Teams.
/// </summary>
public sealed class RecordingChatPlatform(string platform = ChatPlatforms.Slack) : IChatPlatform
{
    private int _next;

    public string Platform => platform;

    /// <summary>Current content of each message by id: the card view or the prompt view.</summary>
    public ConcurrentDictionary<string, object> Messages { get; } = new();

    /// <summary>What each message was posted as, by id (its outbox key and sequence: Slack's message metadata).</summary>
    public ConcurrentDictionary<string, ChatPost> Posts { get; } = new();

    /// <summary>Every call in order: "post-card", "update-card", "post-prompt", "update-prompt", "post-notice", "find-card", "find-prompt".</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>When set, the next this-many calls throw <see cref="ChatDeliveryDelayedException"/>.</summary>
    public int RateLimitedCalls { get; set; }

    /// <summary>When set, the next post it matches is delivered but its answer is lost (the call throws afterwards); then it clears.</summary>
    public Func<ChatPost, bool>? LoseAnswerOf { get; set; }

    /// <summary>Whether <see cref="FindPostedAsync"/> can list messages (Slack) or answers <see cref="ChatLookupOutcome.Unknown"/> (Teams).</summary>
    public bool CanLookUp { get; set; } = true;

    public IReadOnlyList<OnboardingCardView> Cards => [.. Messages.Values.OfType<OnboardingCardView>()];

    public IReadOnlyList<ApprovalPromptView> Prompts => [.. Messages.Values.OfType<ApprovalPromptView>().OrderBy(p => p.ExpiresAt)];

    public ApprovalPromptView? PendingPrompt(string onboardingId) =>
        Messages.Values.OfType<ApprovalPromptView>().FirstOrDefault(p => p.OnboardingId == onboardingId && p.IsPending);

    private void Gate(string call)
    {
        if (RateLimitedCalls > 0)
        {
            RateLimitedCalls--;
            throw new ChatDeliveryDelayedException(TimeSpan.FromMilliseconds(200), "rate limited");
        }
        Calls.Enqueue(call);
    }

    private ChatMessageRef Deliver(ConversationRef conversation, object view, ChatPost post, string? adapterData)
    {
        var id = $"m{Interlocked.Increment(ref _next)}";
        Messages[id] = view;
        Posts[id] = post;
        if (LoseAnswerOf is { } lose && lose(post))
        {
            LoseAnswerOf = null;
            throw new HttpRequestException("the connection dropped after the platform accepted the post");
        }
        return new ChatMessageRef(platform, conversation.ConversationId, id, adapterData);
    }

    public Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, ChatPost post, CancellationToken cancellationToken)
    {
        Gate("post-card");
        return Task.FromResult(Deliver(conversation, card, post, null));
    }

    public Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken)
    {
        Gate("update-card");
        Messages[message.MessageId] = card;
        return Task.CompletedTask;
    }

    public Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, ChatPost post, CancellationToken cancellationToken)
    {
        Gate("post-prompt");
        return Task.FromResult(Deliver(conversation, prompt, post, card.MessageId));
    }

    public Task<ChatMessageRef> PostNoticeAsync(ConversationRef conversation, ChatNoticeView notice, ChatPost post, CancellationToken cancellationToken)
    {
        Gate("post-notice");
        return Task.FromResult(Deliver(conversation, notice, post, null));
    }

    /// <summary>Notices posted, oldest first.</summary>
    public IReadOnlyList<ChatNoticeView> Notices =>
        [.. Messages.Where(m => m.Value is ChatNoticeView).OrderBy(m => int.Parse(m.Key[1..], System.Globalization.CultureInfo.InvariantCulture)).Select(m => (ChatNoticeView)m.Value)];

    public Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        Gate("update-prompt");
        Messages[message.MessageId] = prompt;
        return Task.CompletedTask;
    }

    public Task<ChatLookup> FindPostedAsync(ConversationRef conversation, ChatMessageRef? card, ChatPost post, CancellationToken cancellationToken)
    {
        Gate(card is null ? "find-card" : "find-prompt");
        if (!CanLookUp) return Task.FromResult(ChatLookup.Unknown);
        var found = Posts.Where(p => p.Value.OnboardingId == post.OnboardingId && p.Value.Key == post.Key)
            .Select(p => p.Key).OrderBy(id => int.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture)).FirstOrDefault();
        return Task.FromResult(found is null ? ChatLookup.NotFound : ChatLookup.Found(new ChatMessageRef(platform, conversation.ConversationId, found, card?.MessageId)));
    }
}
