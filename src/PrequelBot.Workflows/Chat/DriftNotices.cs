using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Chat;

/// <summary>
/// Posts the drift watch's pending notice of a database to the conversation its last connect came from
/// (docs/workflow.md, "Drift"). Like the card, each notice is recorded as "sending" before the post and looked up on the
/// platform before a repeat (docs/chat-outbox.md), so a crash between the post and its record does not show it twice
/// where the platform can list messages (Slack).
/// </summary>
public sealed partial class DriftNotices(
    IDriftStore drift,
    IOnboardingStore store,
    IChatMessageStore messages,
    ILeaseStore leases,
    IEnumerable<IChatPlatform> platforms,
    TimeProvider time,
    ILogger<DriftNotices> logger)
{
    /// <summary>The outbox key of drift notice <paramref name="sequence"/> (kept under the connect's onboarding id).</summary>
    public static string NoticeKey(long sequence) => $"{ChatPost.NoticePrefix}drift:{sequence}";

    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    private readonly ChatSendRecords _sends = new(messages, time, logger);

    /// <summary>Posts the pending notice of <paramref name="databaseAlias"/>, if any. Safe to run twice and concurrently.</summary>
    public async Task PostPendingAsync(string databaseAlias, CancellationToken cancellationToken)
    {
        var owner = Ids.NewLeaseOwner();
        var lease = "drift-notice:" + databaseAlias;
        // One poster per database at a time; a second one ends at once (the holder posts the latest notice).
        if (!await leases.TryAcquireLeaseAsync(lease, owner, time.GetUtcNow() + LeaseDuration, cancellationToken).ConfigureAwait(false)) return;
        try
        {
            var record = await drift.GetDriftAsync(databaseAlias, cancellationToken).ConfigureAwait(false);
            if (record is not { NoticePending: true, Notice: { } text }) return;
            var connect = await store.LoadAsync(record.ConnectOnboardingId, cancellationToken).ConfigureAwait(false);
            var conversation = connect?.Onboarding.Conversation;
            var platform = conversation is null ? null : platforms.FirstOrDefault(p => p.Platform == conversation.Platform);
            if (connect is null || conversation is null || platform is null)
            {
                LogNowhere(logger, databaseAlias, record.ConnectOnboardingId);
                await drift.MarkDriftNoticePostedAsync(databaseAlias, record.NoticeSequence, cancellationToken).ConfigureAwait(false);
                return;
            }

            var key = NoticeKey(record.NoticeSequence);
            var send = await _sends.BeginAsync(platform, connect.Id, conversation, key, card: null, cancellationToken).ConfigureAwait(false);
            // An earlier attempt's post, found again, is adopted; otherwise post (a refusal throws: the job's retry posts it later).
            var message = send.Earlier ?? await _sends.PostAsync(platform, send.Post,
                () => platform.PostNoticeAsync(conversation, new ChatNoticeView(text), send.Post, cancellationToken)).ConfigureAwait(false);
            await messages.SaveChatMessageAsync(connect.Id, key, new StoredChatMessage(message, "notice"), cancellationToken).ConfigureAwait(false);
            await drift.MarkDriftNoticePostedAsync(databaseAlias, record.NoticeSequence, cancellationToken).ConfigureAwait(false);
            if (send.Earlier is not null) LogAdopted(logger, databaseAlias, record.NoticeSequence);
            else LogPosted(logger, databaseAlias, record.NoticeSequence, conversation.Platform);
        }
        finally
        {
            await leases.ReleaseLeaseAsync(lease, owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drift notice of {Database}: connect {OnboardingId} or its chat platform is gone; notice dropped")]
    private static partial void LogNowhere(ILogger logger, string database, string onboardingId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift notice {Sequence} of {Database} was posted by an earlier attempt; adopted")]
    private static partial void LogAdopted(ILogger logger, string database, long sequence);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift notice {Sequence} of {Database} posted to {Platform}")]
    private static partial void LogPosted(ILogger logger, string database, long sequence, string platform);
}
