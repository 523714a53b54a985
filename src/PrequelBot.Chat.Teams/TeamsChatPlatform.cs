using System.Net;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// The chat port for Teams: the card is a message in the conversation, prompts are replies to the card, and both
/// are updated in place with <c>PUT …/activities/{id}</c> (safe to repeat). Posts go only to the serviceUrl stored
/// from an authenticated activity. The Connector cannot list a bot's own activities, so <see cref="FindPostedAsync"/>
/// cannot tell whether a post whose answer was lost went through: the outbox then posts a replacement that says so, and
/// a click on either copy decides the same approval (docs/chat-outbox.md).
/// </summary>
internal sealed class TeamsChatPlatform(ConnectorClient connector, IOptions<TeamsOptions> options) : IChatPlatform
{
    public string Platform => ChatPlatforms.Teams;

    public async Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, ChatPost post, CancellationToken cancellationToken)
    {
        var data = TeamsAdapterData.Parse(conversation.AdapterData);
        var activity = AdaptiveCards.Message(BotId(data), conversation.ConversationId, null, AdaptiveCards.Onboarding(card));
        var id = await connector.SendAsync(data.ServiceUrl, conversation.ConversationId, activity, cancellationToken).ConfigureAwait(false);
        return new ChatMessageRef(Platform, conversation.ConversationId, id, data.ToJson());
    }

    public Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken)
    {
        var data = TeamsAdapterData.Parse(message.AdapterData);
        var activity = AdaptiveCards.Message(BotId(data), message.ConversationId, null, AdaptiveCards.Onboarding(card));
        return connector.UpdateAsync(data.ServiceUrl, message.ConversationId, message.MessageId, activity, cancellationToken);
    }

    public async Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, ChatPost post, CancellationToken cancellationToken)
    {
        var data = TeamsAdapterData.Parse(card.AdapterData ?? conversation.AdapterData);
        var activity = AdaptiveCards.Message(BotId(data), card.ConversationId, null, AdaptiveCards.Prompt(prompt));
        var id = await connector.ReplyAsync(data.ServiceUrl, card.ConversationId, card.MessageId, activity, cancellationToken).ConfigureAwait(false);
        return new ChatMessageRef(Platform, card.ConversationId, id, data.ToJson());
    }

    public Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        var data = TeamsAdapterData.Parse(message.AdapterData);
        var activity = AdaptiveCards.Message(BotId(data), message.ConversationId, null, AdaptiveCards.Prompt(prompt));
        return connector.UpdateAsync(data.ServiceUrl, message.ConversationId, message.MessageId, activity, cancellationToken);
    }

    /// <summary>A notice: a new message activity in the conversation (not a reply), an Adaptive Card with a text fallback.</summary>
    public async Task<ChatMessageRef> PostNoticeAsync(ConversationRef conversation, ChatNoticeView notice, ChatPost post, CancellationToken cancellationToken)
    {
        var data = TeamsAdapterData.Parse(conversation.AdapterData);
        var activity = AdaptiveCards.Message(BotId(data), conversation.ConversationId, null, AdaptiveCards.Notice(notice));
        var id = await connector.SendAsync(data.ServiceUrl, conversation.ConversationId, activity, cancellationToken).ConfigureAwait(false);
        return new ChatMessageRef(Platform, conversation.ConversationId, id, data.ToJson());
    }

    /// <summary>Always <see cref="ChatLookupOutcome.Unknown"/>: the Connector has no way to list what the bot posted.</summary>
    public Task<ChatLookup> FindPostedAsync(ConversationRef conversation, ChatMessageRef? card, ChatPost post, CancellationToken cancellationToken) =>
        Task.FromResult(ChatLookup.Unknown);

    /// <summary>A rate limit, or a Connector 4xx (the activity was refused); a 5xx or a transport error leaves the outcome unknown.</summary>
    public bool PostedNothing(Exception exception) =>
        exception is ChatDeliveryDelayedException
        || exception is TeamsConnectorException { Status: >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError };

    private string BotId(TeamsAdapterData data) => data.BotId ?? "28:" + options.Value.AppId;
}
