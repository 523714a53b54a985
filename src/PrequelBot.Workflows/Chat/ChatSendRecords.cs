using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Chat;

/// <summary>
/// The send records around one post (docs/chat-outbox.md), shared by the card and prompt outbox and the drift notices:
/// "sending" is recorded before the platform is called; a later attempt first asks the platform whether an earlier one
/// posted the message; an answer that says nothing was posted clears the record, so the next attempt needs no look-up.
/// </summary>
internal sealed partial class ChatSendRecords(IChatMessageStore messages, TimeProvider time, ILogger logger)
{
    /// <summary>
    /// Records that <paramref name="key"/> of <paramref name="onboardingId"/> is being sent. When an earlier attempt may
    /// have posted it, looks it up (the card or a notice when <paramref name="card"/> is null, else a prompt in its thread).
    /// </summary>
    public async Task<ChatSend> BeginAsync(IChatPlatform platform, string onboardingId, ConversationRef conversation, string key, ChatMessageRef? card,
        CancellationToken cancellationToken)
    {
        var attempt = await messages.BeginChatSendAsync(onboardingId, key, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        var post = new ChatPost(onboardingId, key, attempt.Sequence, attempt.FirstAttemptAt);
        if (attempt.Attempt <= 1) return new ChatSend(post, null, MayShowTwice: false);

        var lookup = await platform.FindPostedAsync(conversation, card, post, cancellationToken).ConfigureAwait(false);
        LogLookup(logger, onboardingId, key, attempt.Attempt, lookup.Outcome);
        return new ChatSend(post, lookup is { Outcome: ChatLookupOutcome.Found, Message: { } found } ? found : null,
            MayShowTwice: lookup.Outcome == ChatLookupOutcome.Unknown);
    }

    /// <summary>Posts; after an answer that says nothing was posted (a refusal, a rate limit) the next attempt needs no look-up.</summary>
    public async Task<ChatMessageRef> PostAsync(IChatPlatform platform, ChatPost post, Func<Task<ChatMessageRef>> send)
    {
        try
        {
            return await send().ConfigureAwait(false);
        }
        catch (Exception e) when (platform.PostedNothing(e))
        {
            await messages.CancelChatSendAsync(post.OnboardingId, post.Key, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: {MessageKey} may have been posted before (attempt {Attempt}); look-up: {Outcome}")]
    private static partial void LogLookup(ILogger logger, string onboardingId, string messageKey, int attempt, ChatLookupOutcome outcome);
}

/// <summary>
/// One send begun: the post to make, the message an earlier attempt already posted (adopt it instead), and whether the
/// platform could not tell, so a new post may show next to an earlier copy.
/// </summary>
internal sealed record ChatSend(ChatPost Post, ChatMessageRef? Earlier, bool MayShowTwice);
