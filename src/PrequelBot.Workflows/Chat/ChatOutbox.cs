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
            var card = CardViews.Card(aggregate);
            var cardHash = Hash(card with { UpdatedAt = default });
            if (!shown.TryGetValue(CardKey, out var cardMessage))
            {
                var posted = await platform.PostCardAsync(ob.Conversation, card, cancellationToken).ConfigureAwait(false);
                cardMessage = new StoredChatMessage(posted, cardHash);
                delivered = true;
                await messages.SaveChatMessageAsync(onboardingId, CardKey, cardMessage, cancellationToken).ConfigureAwait(false);
            }
            else if (cardMessage.ContentHash != cardHash)
            {
                await platform.UpdateCardAsync(cardMessage.Ref, card, cancellationToken).ConfigureAwait(false);
                delivered = true;
                await messages.SaveChatMessageAsync(onboardingId, CardKey, cardMessage with { ContentHash = cardHash }, cancellationToken).ConfigureAwait(false);
            }

            foreach (var approval in aggregate.Approvals.OrderBy(a => a.RequestedAt))
            {
                var prompt = CardViews.Prompt(aggregate, approval);
                var promptHash = Hash(prompt);
                var key = PromptKey(approval.Id);
                if (!shown.TryGetValue(key, out var promptMessage))
                {
                    // A prompt decided before it was ever shown (cancelled at once) is not worth posting.
                    if (approval.State is ApprovalState.Cancelled) continue;
                    var posted = await platform.PostPromptAsync(ob.Conversation, cardMessage.Ref, prompt, cancellationToken).ConfigureAwait(false);
                    delivered = true;
                    await messages.SaveChatMessageAsync(onboardingId, key, new StoredChatMessage(posted, promptHash), cancellationToken).ConfigureAwait(false);
                }
                else if (promptMessage.ContentHash != promptHash)
                {
                    await platform.UpdatePromptAsync(promptMessage.Ref, prompt, cancellationToken).ConfigureAwait(false);
                    delivered = true;
                    await messages.SaveChatMessageAsync(onboardingId, key, promptMessage with { ContentHash = promptHash }, cancellationToken).ConfigureAwait(false);
                }
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

    private static string Hash<T>(T view) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(view))));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Onboarding {OnboardingId}: no chat adapter for platform {Platform}; card not shown")]
    private static partial void LogNoPlatform(ILogger logger, string onboardingId, string platform);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId}: chat asked to slow down; retrying in {RetryAfter}")]
    private static partial void LogDelayed(ILogger logger, string onboardingId, TimeSpan retryAfter);
}
