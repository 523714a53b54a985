using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Ports;

/// <summary>
/// The chat port: how the workflow shows an onboarding in Slack or Teams. One implementation per platform,
/// chosen by <see cref="ConversationRef.Platform"/>. Called only from the chat outbox job, never from a
/// step, so a chat outage delays messages but never blocks or loses workflow progress.
/// </summary>
/// <remarks>
/// Calls may be repeated after a crash (at least once). Post may therefore occasionally duplicate a
/// message; update must be safe to repeat. Throw <see cref="ChatDeliveryDelayedException"/> when the
/// platform asks to slow down (e.g. HTTP 429 with Retry-After); any other exception is retried with back-off.
/// </remarks>
public interface IChatPlatform
{
    /// <summary>One of <see cref="ChatPlatforms"/>.</summary>
    string Platform { get; }

    /// <summary>Posts the onboarding card to the conversation.</summary>
    Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, CancellationToken cancellationToken);

    /// <summary>Replaces the card's content in place (Slack <c>chat.update</c>, Teams <c>PUT …/activities/{id}</c>).</summary>
    Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken);

    /// <summary>Posts an approval prompt, in the card's thread where the platform has threads.</summary>
    Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, CancellationToken cancellationToken);

    /// <summary>Replaces a prompt, e.g. to show who decided and when (buttons removed).</summary>
    Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken);
}

/// <summary>The platform asked to retry later; the outbox reschedules delivery after <see cref="RetryAfter"/>.</summary>
public sealed class ChatDeliveryDelayedException(TimeSpan retryAfter, string message) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
