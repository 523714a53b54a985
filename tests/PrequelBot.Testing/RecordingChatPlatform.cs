using System.Collections.Concurrent;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Testing;

/// <summary>An <see cref="IChatPlatform"/> that keeps every message in memory and can refuse deliveries on demand.</summary>
public sealed class RecordingChatPlatform(string platform = ChatPlatforms.Slack) : IChatPlatform
{
    private int _next;

    public string Platform => platform;

    /// <summary>Current content of each message by id: the card view or the prompt view.</summary>
    public ConcurrentDictionary<string, object> Messages { get; } = new();

    /// <summary>Every call in order: "post-card", "update-card", "post-prompt", "update-prompt".</summary>
    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>When set, the next this-many calls throw <see cref="ChatDeliveryDelayedException"/>.</summary>
    public int RateLimitedCalls { get; set; }

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

    public Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, CancellationToken cancellationToken)
    {
        Gate("post-card");
        var id = $"m{Interlocked.Increment(ref _next)}";
        Messages[id] = card;
        return Task.FromResult(new ChatMessageRef(platform, conversation.ConversationId, id));
    }

    public Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken)
    {
        Gate("update-card");
        Messages[message.MessageId] = card;
        return Task.CompletedTask;
    }

    public Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        Gate("post-prompt");
        var id = $"m{Interlocked.Increment(ref _next)}";
        Messages[id] = prompt;
        return Task.FromResult(new ChatMessageRef(platform, conversation.ConversationId, id, card.MessageId));
    }

    public Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        Gate("update-prompt");
        Messages[message.MessageId] = prompt;
        return Task.CompletedTask;
    }
}
