using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// The chat port for Slack: the card is a channel message (<c>chat.postMessage</c>, then <c>chat.update</c>),
/// each approval prompt a reply in the card's thread. <see cref="ChatMessageRef.MessageId"/> is Slack's <c>ts</c>,
/// kept as the exact string Slack returned. Updates are safe to repeat; a repeated post may duplicate a message
/// (Slack has no idempotency key), as the port allows. Throws <see cref="ChatDeliveryDelayedException"/> on rate limits.
/// </summary>
public sealed class SlackChatPlatform(SlackWebApiClient client) : IChatPlatform
{
    public string Platform => ChatPlatforms.Slack;

    public async Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var posted = await client.PostMessageAsync(conversation.ConversationId, SlackMessageRenderer.Card(card), threadTs: null, cancellationToken)
            .ConfigureAwait(false);
        return new ChatMessageRef(ChatPlatforms.Slack, posted.Channel, posted.Ts);
    }

    public Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return client.UpdateMessageAsync(message.ConversationId, message.MessageId, SlackMessageRenderer.Card(card), cancellationToken);
    }

    public async Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(card);
        var posted = await client.PostMessageAsync(conversation.ConversationId, SlackMessageRenderer.Prompt(prompt), threadTs: card.MessageId, cancellationToken)
            .ConfigureAwait(false);
        return new ChatMessageRef(ChatPlatforms.Slack, posted.Channel, posted.Ts);
    }

    public Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return client.UpdateMessageAsync(message.ConversationId, message.MessageId, SlackMessageRenderer.Prompt(prompt), cancellationToken);
    }
}
