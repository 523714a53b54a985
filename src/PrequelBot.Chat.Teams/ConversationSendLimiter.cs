using System.Threading.RateLimiting;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Keeps sends per conversation under the Teams limits for one bot (7 per 1 s, 8 per 2 s, 60 per 30 s;
/// https://learn.microsoft.com/microsoftteams/platform/bots/how-to/rate-limit), queueing a short burst and otherwise
/// asking the outbox to come back later with <see cref="ChatDeliveryDelayedException"/>. Per process: with several
/// nodes the Connector's own 429 remains the backstop.
/// </summary>
internal sealed class ConversationSendLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.CreateChained(
        Window(7, TimeSpan.FromSeconds(1)),
        Window(8, TimeSpan.FromSeconds(2)),
        Window(60, TimeSpan.FromSeconds(30)));

    /// <summary>Waits for a send slot in <paramref name="conversationId"/>; the returned lease is released by disposing it.</summary>
    public async Task<IDisposable> AcquireAsync(string conversationId, CancellationToken cancellationToken)
    {
        var lease = await _limiter.AcquireAsync(conversationId, 1, cancellationToken).ConfigureAwait(false);
        if (lease.IsAcquired) return lease;
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(5);
        lease.Dispose();
        throw new ChatDeliveryDelayedException(retryAfter, "Too many messages to one Teams conversation; delivery will be retried later.");
    }

    public void Dispose() => _limiter.Dispose();

    private static PartitionedRateLimiter<string> Window(int permits, TimeSpan window) =>
        PartitionedRateLimiter.Create<string, string>(conversation => RateLimitPartition.GetSlidingWindowLimiter(conversation, _ =>
            new SlidingWindowRateLimiterOptions
            {
                PermitLimit = permits,
                Window = window,
                SegmentsPerWindow = 4,
                QueueLimit = 16,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            }));
}
