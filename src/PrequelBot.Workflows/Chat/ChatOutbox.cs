using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Ports;
using PrequelBot.Workflows.Telemetry;

namespace PrequelBot.Workflows.Chat;

/// <summary>
/// Brings chat up to date with stored state: posts the card once, updates it in place when what it shows
/// changed, posts each pending approval prompt in the card's thread and updates decided ones. State is the
/// outbox: a chat outage delays messages and never blocks a step; the reconciler re-drives lagging cards.
/// </summary>
public sealed partial class ChatOutbox(
    IOnboardingStore store,
    IChatMessageStore messages,
    ILeaseStore leases,
    IEnumerable<IChatPlatform> platforms,
    IWorkScheduler scheduler,
    TimeProvider time,
    ILogger<ChatOutbox> logger)
{
    public const string CardKey = "card";

    public static string PromptKey(string approvalId) => "prompt:" + approvalId;

    private readonly ChatSendRecords _sends = new(messages, time, logger);

    /// <summary>
    /// How long the onboarding's chat lease lasts without a renewal. A sync renews it every <see cref="LeaseHeartbeat"/>
    /// while it runs (a slow platform cannot let a second sync in); a crashed one blocks chat for at most this long on a
    /// multi-node store (on SQLite start-up voids leases at once).
    /// </summary>
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);

    /// <summary>How often a running sync renews its lease: well inside <see cref="LeaseDuration"/>.</summary>
    public static readonly TimeSpan LeaseHeartbeat = TimeSpan.FromSeconds(10);

    /// <summary>How many times one job syncs again because the onboarding changed while it was syncing.</summary>
    private const int MaxRounds = 5;

    private enum Round { Synced, Busy, Done }

    /// <summary>
    /// Syncs one onboarding's messages. Safe to run twice; concurrent runs for one onboarding are serialised by a lease.
    /// A run that finds the lease taken ends at once and schedules nothing: the holder checks again after releasing it
    /// and syncs once more if anything changed meanwhile (a holder that died is covered by the reconciler). Rescheduling
    /// instead let every contended run start a chain of retries that outgrew the workers under load and starved the
    /// step jobs (docs/feat/e2e.md, findings).
    /// </summary>
    public async Task SyncAsync(string onboardingId, CancellationToken cancellationToken)
    {
        for (var round = 0; round < MaxRounds; round++)
        {
            if (await SyncOnceAsync(onboardingId, cancellationToken).ConfigureAwait(false) != Round.Synced) return;
            // After the release: a save whose own sync found the lease taken (and ended) is caught up here.
            var latest = await store.LoadAsync(onboardingId, cancellationToken).ConfigureAwait(false);
            if (latest is null || latest.Onboarding.ChatVersion <= await messages.GetChatSyncedVersionAsync(onboardingId, cancellationToken).ConfigureAwait(false)) return;
        }
        scheduler.SyncChat(onboardingId); // still changing: carry on as a fresh job
    }

    private async Task<Round> SyncOnceAsync(string onboardingId, CancellationToken cancellationToken)
    {
        var owner = Ids.NewLeaseOwner();
        var lease = "chat:" + onboardingId;
        if (!await leases.TryAcquireLeaseAsync(lease, owner, time.GetUtcNow() + LeaseDuration, cancellationToken).ConfigureAwait(false))
            return Round.Busy;
        var heartbeat = new Heartbeat(LeaseHeartbeat, token => leases.TryAcquireLeaseAsync(lease, owner, time.GetUtcNow() + LeaseDuration, token), time, cancellationToken);
        cancellationToken = heartbeat.Token;
        try
        {
            var aggregate = await store.LoadAsync(onboardingId, cancellationToken).ConfigureAwait(false);
            if (aggregate is null) return Round.Done;
            var ob = aggregate.Onboarding;
            var platform = platforms.FirstOrDefault(p => p.Platform == ob.Conversation.Platform);
            if (platform is null)
            {
                LogNoPlatform(logger, onboardingId, ob.Conversation.Platform);
                await messages.MarkChatSyncedAsync(onboardingId, ob.ChatVersion, cancellationToken).ConfigureAwait(false);
                return Round.Done;
            }

            var shown = await messages.GetChatMessagesAsync(onboardingId, cancellationToken).ConfigureAwait(false);
            var delivered = false;
            var version = ob.ChatVersion;
            var card = CardViews.Card(aggregate);
            if (!shown.TryGetValue(CardKey, out var cardMessage))
            {
                var (adopted, post, replaces) = await PrepareSendAsync(platform, ob, CardKey, null, cancellationToken).ConfigureAwait(false);
                if (adopted is not null)
                {
                    cardMessage = adopted;
                }
                else
                {
                    var view = card with { ReplacesEarlier = replaces };
                    var posted = await _sends.PostAsync(platform, post, () => platform.PostCardAsync(ob.Conversation, view, post, cancellationToken)).ConfigureAwait(false);
                    cardMessage = new StoredChatMessage(posted, Hash(view with { UpdatedAt = default }), version, replaces);
                    delivered = true;
                    await messages.SaveChatMessageAsync(onboardingId, CardKey, cardMessage, cancellationToken).ConfigureAwait(false);
                }
            }
            var shownCard = card with { ReplacesEarlier = cardMessage.ReplacesEarlier };
            var cardRef = cardMessage.Ref;
            delivered |= await UpdateIfChangedAsync(onboardingId, CardKey, cardMessage, Hash(shownCard with { UpdatedAt = default }), version,
                () => platform.UpdateCardAsync(cardRef, shownCard, cancellationToken), cancellationToken).ConfigureAwait(false);

            foreach (var approval in aggregate.Approvals.OrderBy(a => a.RequestedAt))
            {
                var prompt = CardViews.Prompt(aggregate, approval);
                var key = PromptKey(approval.Id);
                if (!shown.TryGetValue(key, out var promptMessage))
                {
                    // A prompt decided before it was ever shown (cancelled at once) is not worth posting.
                    if (approval.State is ApprovalState.Cancelled) continue;
                    var (adopted, post, replaces) = await PrepareSendAsync(platform, ob, key, cardRef, cancellationToken).ConfigureAwait(false);
                    if (adopted is not null)
                    {
                        promptMessage = adopted;
                    }
                    else
                    {
                        var view = prompt with { ReplacesEarlier = replaces };
                        var posted = await _sends.PostAsync(platform, post, () => platform.PostPromptAsync(ob.Conversation, cardRef, view, post, cancellationToken)).ConfigureAwait(false);
                        delivered = true;
                        await messages.SaveChatMessageAsync(onboardingId, key, new StoredChatMessage(posted, Hash(view), version, replaces), cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }
                var shownPrompt = prompt with { ReplacesEarlier = promptMessage.ReplacesEarlier };
                var promptRef = promptMessage.Ref;
                delivered |= await UpdateIfChangedAsync(onboardingId, key, promptMessage, Hash(shownPrompt), version,
                    () => platform.UpdatePromptAsync(promptRef, shownPrompt, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            await messages.MarkChatSyncedAsync(onboardingId, ob.ChatVersion, cancellationToken).ConfigureAwait(false);
            // Lag: from the change chat now shows to the moment it shows it (only when something was sent).
            if (delivered) PrequelBotTelemetry.RecordOutboxLag(platform.Platform, time.GetUtcNow() - ob.UpdatedAt);
            return Round.Synced;
        }
        catch (ChatDeliveryDelayedException e)
        {
            LogDelayed(logger, onboardingId, e.RetryAfter);
            scheduler.SyncChatLater(onboardingId, e.RetryAfter);
            return Round.Done;
        }
        catch (OperationCanceledException) when (heartbeat.LeaseLost)
        {
            // Another sync took the lease over (this one stalled past it): it shows the latest state.
            return Round.Done;
        }
        finally
        {
            await heartbeat.DisposeAsync().ConfigureAwait(false);
            await leases.ReleaseLeaseAsync(lease, owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records that <paramref name="key"/> is being sent (before the platform is called). When an earlier attempt posted
    /// it (a crash or a lost answer after the call), the message found is adopted (saved, with no fingerprint, so the
    /// caller updates it to the current state) instead of posting again; when the platform cannot tell, the new post says
    /// it replaces the earlier one (docs/chat-outbox.md).
    /// </summary>
    private async Task<(StoredChatMessage? Adopted, ChatPost Post, bool ReplacesEarlier)> PrepareSendAsync(
        IChatPlatform platform, Onboarding ob, string key, ChatMessageRef? card, CancellationToken cancellationToken)
    {
        var send = await _sends.BeginAsync(platform, ob.Id, ob.Conversation, key, card, cancellationToken).ConfigureAwait(false);
        if (send.Earlier is not { } found) return (null, send.Post, send.MayShowTwice);
        var adopted = new StoredChatMessage(found, ContentHash: "", ShownVersion: 0);
        await messages.SaveChatMessageAsync(ob.Id, key, adopted, cancellationToken).ConfigureAwait(false);
        return (adopted, send.Post, false);
    }

    /// <summary>
    /// Updates a message whose content changed, never to an older state than one already sent: the update is claimed
    /// with its chat version first (compare-and-set) and skipped when a newer one was claimed. When a newer sync claimed
    /// the message while this update was in flight, this update may have landed last; the message is marked stale and
    /// synced again once that sync is over, so the newest state is what stays (docs/chat-outbox.md).
    /// </summary>
    /// <returns>Whether an update was sent.</returns>
    private async Task<bool> UpdateIfChangedAsync(string onboardingId, string key, StoredChatMessage stored, string hash, long version,
        Func<Task> update, CancellationToken cancellationToken)
    {
        if (stored.ContentHash == hash) return false;
        var pending = "pending:" + hash;
        if (!await messages.TryClaimChatUpdateAsync(onboardingId, key, version, pending, cancellationToken).ConfigureAwait(false))
        {
            LogOlderSkipped(logger, onboardingId, key, version);
            return false;
        }
        await update().ConfigureAwait(false);
        if (!await messages.ConfirmChatUpdateAsync(onboardingId, key, version, pending, hash, cancellationToken).ConfigureAwait(false))
        {
            await messages.MarkChatMessageStaleAsync(onboardingId, key, cancellationToken).ConfigureAwait(false);
            scheduler.SyncChatLater(onboardingId, LeaseDuration);
        }
        return true;
    }

    private static string Hash<T>(T view) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(view))));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Onboarding {OnboardingId}: no chat adapter for platform {Platform}; card not shown")]
    private static partial void LogNoPlatform(ILogger logger, string onboardingId, string platform);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: {MessageKey} already shows a newer state than version {ChatVersion}; update skipped")]
    private static partial void LogOlderSkipped(ILogger logger, string onboardingId, string messageKey, long chatVersion);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: chat asked to slow down; retrying in {RetryAfter}")]
    private static partial void LogDelayed(ILogger logger, string onboardingId, TimeSpan retryAfter);
}
