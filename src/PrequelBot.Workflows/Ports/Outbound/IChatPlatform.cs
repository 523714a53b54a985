using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Ports;

/// <summary>
/// The chat port: how the workflow shows an onboarding in Slack or Teams. One implementation per platform,
/// chosen by <see cref="ConversationRef.Platform"/>. Called only from the chat outbox job, never from a
/// step, so a chat outage delays messages but never blocks or loses workflow progress.
/// </summary>
/// <remarks>
/// Calls may be repeated after a crash (at least once). The outbox records each post as "sending" before calling
/// <c>Post…</c> and the returned reference right after (docs/chat-outbox.md); when a post may already have happened
/// (a crash or a lost answer in between) it asks <see cref="FindPostedAsync"/> first and adopts what that finds, so a
/// platform that can list its messages never shows one twice. Update must be safe to repeat. Throw
/// <see cref="ChatDeliveryDelayedException"/> when the platform asks to slow down (e.g. HTTP 429 with Retry-After):
/// it means nothing was posted. Any other exception is retried with back-off.
/// </remarks>
public interface IChatPlatform
{
    /// <summary>One of <see cref="ChatPlatforms"/>.</summary>
    string Platform { get; }

    /// <summary>
    /// Posts the onboarding card to the conversation, carrying <paramref name="post"/> where the platform can attach it to
    /// the message (Slack message metadata) so <see cref="FindPostedAsync"/> can find it again.
    /// </summary>
    Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, ChatPost post, CancellationToken cancellationToken);

    /// <summary>Replaces the card's content in place (Slack <c>chat.update</c>, Teams <c>PUT …/activities/{id}</c>).</summary>
    Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken);

    /// <summary>Posts an approval prompt, in the card's thread where the platform has threads; <paramref name="post"/> as for the card.</summary>
    Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, ChatPost post, CancellationToken cancellationToken);

    /// <summary>
    /// Looks for a message an earlier attempt of <paramref name="post"/> may have posted (the card, or a notice when its key
    /// is a <see cref="ChatPost.IsNotice"/> key, when <paramref name="card"/> is null, else a prompt in that card's thread). <see cref="ChatLookupOutcome.NotFound"/> only
    /// when the platform answered that it holds no such message; <see cref="ChatLookupOutcome.Unknown"/> when it cannot
    /// tell (Teams: the Connector cannot list a bot's activities; Slack: a missing history scope). Reads only.
    /// </summary>
    Task<ChatLookup> FindPostedAsync(ConversationRef conversation, ChatMessageRef? card, ChatPost post, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <paramref name="exception"/>, thrown by a <c>Post…</c> call, means the platform answered that it posted
    /// nothing (a refusal such as Slack's <c>ok:false</c>, a Connector 4xx, a rate limit), as opposed to an outcome the
    /// bot cannot know (a timeout, a 5xx). After a refusal the next attempt needs no look-up and says nothing about an
    /// earlier copy.
    /// </summary>
    bool PostedNothing(Exception exception) => exception is ChatDeliveryDelayedException;

    /// <summary>
    /// Posts a notice to the conversation, not in a thread (the drift watch's message), carrying <paramref name="post"/> as
    /// for the card; <see cref="FindPostedAsync"/> with no card finds it by <see cref="ChatPost.Key"/>.
    /// </summary>
    Task<ChatMessageRef> PostNoticeAsync(ConversationRef conversation, ChatNoticeView notice, ChatPost post, CancellationToken cancellationToken);

    /// <summary>Replaces a prompt, e.g. to show who decided and when (buttons removed).</summary>
    Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken);
}

/// <summary>
/// One message the outbox posts: the onboarding, its outbox key (<c>card</c>, <c>prompt:&lt;approval-id&gt;</c>), the
/// outbox sequence number given to it when it was first recorded as "sending", and when that was.
/// </summary>
public sealed record ChatPost(string OnboardingId, string Key, long Sequence, DateTimeOffset FirstAttemptAt)
{
    /// <summary>The key prefix of notices (<see cref="IChatPlatform.PostNoticeAsync"/>): <c>notice:drift:&lt;n&gt;</c>.</summary>
    public const string NoticePrefix = "notice:";

    /// <summary>True for a notice's key.</summary>
    public bool IsNotice => Key.StartsWith(NoticePrefix, StringComparison.Ordinal);
}

/// <summary>What <see cref="IChatPlatform.FindPostedAsync"/> learnt.</summary>
public enum ChatLookupOutcome
{
    /// <summary>The platform holds no message of this post: posting cannot duplicate one.</summary>
    NotFound,

    /// <summary>An earlier attempt did post it: <see cref="ChatLookup.Message"/>.</summary>
    Found,

    /// <summary>The platform cannot tell: a new post may sit next to an earlier one, and says it replaces it.</summary>
    Unknown,
}

/// <summary>The answer of <see cref="IChatPlatform.FindPostedAsync"/>.</summary>
public sealed record ChatLookup(ChatLookupOutcome Outcome, ChatMessageRef? Message = null)
{
    public static readonly ChatLookup NotFound = new(ChatLookupOutcome.NotFound);

    public static readonly ChatLookup Unknown = new(ChatLookupOutcome.Unknown);

    public static ChatLookup Found(ChatMessageRef message) => new(ChatLookupOutcome.Found, message);
}

/// <summary>The platform asked to retry later; the outbox reschedules delivery after <see cref="RetryAfter"/>.</summary>
public sealed class ChatDeliveryDelayedException(TimeSpan retryAfter, string message) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}
