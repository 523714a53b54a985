using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// The chat port for Slack: the card is a channel message (<c>chat.postMessage</c>, then <c>chat.update</c>),
/// each approval prompt a reply in the card's thread. <see cref="ChatMessageRef.MessageId"/> is Slack's <c>ts</c>,
/// kept as the exact string Slack returned. Every post carries message metadata (event type
/// <see cref="CardEventType"/> or <see cref="PromptEventType"/>, with the onboarding id, the outbox key and sequence),
/// so a post whose answer was lost is found again (<see cref="FindPostedAsync"/>) instead of being repeated
/// (docs/chat-outbox.md). Updates are safe to repeat. Throws <see cref="ChatDeliveryDelayedException"/> on rate limits.
/// </summary>
public sealed partial class SlackChatPlatform(SlackWebApiClient client, ILogger<SlackChatPlatform> logger) : IChatPlatform
{
    /// <summary>The metadata event type of an onboarding card.</summary>
    public const string CardEventType = "prequelbot_card";

    /// <summary>The metadata event type of an approval prompt.</summary>
    public const string PromptEventType = "prequelbot_prompt";

    /// <summary>The metadata event type of a notice (the drift watch's message to the channel).</summary>
    public const string NoticeEventType = "prequelbot_notice";

    /// <summary>Messages per look-up page (Slack allows up to 999; it advises 200 at most).</summary>
    public const int LookupPageSize = 200;

    /// <summary>Pages one look-up reads at most (Tier 3 methods: 50+ calls a minute; a 429 delays the outbox, docs/chat-outbox.md).</summary>
    public const int LookupMaxPages = 5;

    /// <summary>How far before the first send the card look-up starts: room for a clock difference between this node and Slack.</summary>
    public static readonly TimeSpan LookupClockMargin = TimeSpan.FromMinutes(5);

    public string Platform => ChatPlatforms.Slack;

    public async Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, ChatPost post, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(post);
        var posted = await client.PostMessageAsync(conversation.ConversationId, SlackMessageRenderer.Card(card), threadTs: null, cancellationToken,
            Metadata(CardEventType, post)).ConfigureAwait(false);
        return new ChatMessageRef(ChatPlatforms.Slack, posted.Channel, posted.Ts);
    }

    public Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return client.UpdateMessageAsync(message.ConversationId, message.MessageId, SlackMessageRenderer.Card(card), cancellationToken);
    }

    public async Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, ChatPost post, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(post);
        var posted = await client.PostMessageAsync(conversation.ConversationId, SlackMessageRenderer.Prompt(prompt), threadTs: card.MessageId, cancellationToken,
            Metadata(PromptEventType, post)).ConfigureAwait(false);
        return new ChatMessageRef(ChatPlatforms.Slack, posted.Channel, posted.Ts);
    }

    /// <summary>A notice: a top-level <c>chat.postMessage</c> to the channel (not in a thread), with notice metadata.</summary>
    public async Task<ChatMessageRef> PostNoticeAsync(ConversationRef conversation, ChatNoticeView notice, ChatPost post, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(post);
        var posted = await client.PostMessageAsync(conversation.ConversationId, SlackMessageRenderer.Notice(notice), threadTs: null, cancellationToken,
            Metadata(NoticeEventType, post)).ConfigureAwait(false);
        return new ChatMessageRef(ChatPlatforms.Slack, posted.Channel, posted.Ts);
    }

    public Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return client.UpdateMessageAsync(message.ConversationId, message.MessageId, SlackMessageRenderer.Prompt(prompt), cancellationToken);
    }

    /// <summary>
    /// A prompt: <c>conversations.replies</c> on the card's thread. The card or a notice: <c>conversations.history</c> of the channel
    /// from <see cref="LookupClockMargin"/> before its first send. Both with <c>include_all_metadata</c>, matching the
    /// metadata's event type, onboarding id and key; the oldest match wins. A Slack error other than a rate limit
    /// (e.g. <c>missing_scope</c> on an install that predates the history scopes) answers
    /// <see cref="ChatLookupOutcome.Unknown"/>, so the outbox posts a replacement instead of failing.
    /// </summary>
    public async Task<ChatLookup> FindPostedAsync(ConversationRef conversation, ChatMessageRef? card, ChatPost post, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(post);
        var eventType = card is not null ? PromptEventType : post.IsNotice ? NoticeEventType : CardEventType;
        var channel = card?.ConversationId ?? conversation.ConversationId;
        var oldest = SlackTs(post.FirstAttemptAt - LookupClockMargin);
        string? cursor = null;
        string? found = null;
        try
        {
            for (var page = 0; page < LookupMaxPages; page++)
            {
                var messages = card is null
                    ? await client.ConversationHistoryAsync(channel, oldest, cursor, LookupPageSize, cancellationToken).ConfigureAwait(false)
                    : await client.ConversationRepliesAsync(channel, card.MessageId, cursor, LookupPageSize, cancellationToken).ConfigureAwait(false);
                foreach (var message in messages.Messages)
                {
                    if (!IsPostOf(message, eventType, post) || message["ts"] is not JsonValue tsValue || !tsValue.TryGetValue<string>(out var ts)) continue;
                    if (found is null || CompareTs(ts, found) < 0) found = ts;
                }

                cursor = messages.NextCursor;
                if (cursor is null) break;
            }
        }
        catch (SlackApiException e)
        {
            LogLookupFailed(logger, post.OnboardingId, post.Key, e.Method, e.Error);
            return ChatLookup.Unknown;
        }

        if (found is not null) return ChatLookup.Found(new ChatMessageRef(ChatPlatforms.Slack, channel, found));
        // Pages left unread may hold it: only a complete read says it is not there.
        return cursor is null ? ChatLookup.NotFound : ChatLookup.Unknown;
    }

    /// <summary>
    /// A rate limit, or an <c>ok:false</c> answer (Slack refused the call: nothing was posted). An HTTP error status, an
    /// unreadable answer or a missing <c>ts</c> leave the outcome unknown.
    /// </summary>
    public bool PostedNothing(Exception exception) =>
        exception is ChatDeliveryDelayedException
        || exception is SlackApiException { Error: var error } && !error.StartsWith("http_", StringComparison.Ordinal) && error is not ("invalid_response" or "missing_ts");

    /// <summary>The message metadata of a post: https://docs.slack.dev/messaging/message-metadata (payload values are strings and numbers).</summary>
    public static JsonObject Metadata(string eventType, ChatPost post)
    {
        ArgumentNullException.ThrowIfNull(post);
        return new JsonObject
        {
            ["event_type"] = eventType,
            ["event_payload"] = new JsonObject
            {
                ["onboarding_id"] = post.OnboardingId,
                ["message_key"] = post.Key,
                ["outbox_sequence"] = post.Sequence,
            },
        };
    }

    private static bool IsPostOf(JsonObject message, string eventType, ChatPost post) =>
        message["metadata"] is JsonObject metadata
        && Text(metadata["event_type"]) == eventType
        && metadata["event_payload"] is JsonObject payload
        && Text(payload["onboarding_id"]) == post.OnboardingId
        && Text(payload["message_key"]) == post.Key;

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>A time as a Slack ts (<c>seconds.micros</c>), for <c>oldest</c>.</summary>
    private static string SlackTs(DateTimeOffset at)
    {
        var micros = Math.Max(0, (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10);
        return string.Create(CultureInfo.InvariantCulture, $"{micros / 1_000_000}.{micros % 1_000_000:D6}");
    }

    /// <summary>Orders two ts strings without turning them into floating point (which loses digits): seconds, then the fraction.</summary>
    private static int CompareTs(string a, string b)
    {
        static (long Seconds, string Fraction) Split(string ts)
        {
            var dot = ts.IndexOf('.', StringComparison.Ordinal);
            var seconds = long.TryParse(dot < 0 ? ts : ts[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            return (seconds, dot < 0 ? "" : ts[(dot + 1)..].PadRight(6, '0'));
        }

        var (sa, fa) = Split(a);
        var (sb, fb) = Split(b);
        return sa != sb ? sa.CompareTo(sb) : string.CompareOrdinal(fa, fb);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Onboarding {OnboardingId}: could not look {MessageKey} up ({Method} answered {Error}); posting a replacement")]
    private static partial void LogLookupFailed(ILogger logger, string onboardingId, string messageKey, string method, string error);
}
