using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Authenticated activities waiting for work, so <c>POST /api/messages</c> answers at once. In memory: an activity in
/// flight during a crash is lost, like an unanswered chat message (the user repeats it); no workflow state is held here.
/// </summary>
internal sealed class TeamsActivityQueue
{
    private readonly Channel<Activity> _channel = Channel.CreateBounded<Activity>(new BoundedChannelOptions(1000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
    });

    /// <summary>False when the queue is full (the caller answers 503 so the channel retries later).</summary>
    public bool TryEnqueue(Activity activity) => _channel.Writer.TryWrite(activity);

    public ChannelReader<Activity> Reader => _channel.Reader;
}

/// <summary>Processes queued activities, a few at a time, each in its own DI scope.</summary>
internal sealed partial class TeamsActivityWorker(TeamsActivityQueue queue, IServiceScopeFactory scopes, ILogger<TeamsActivityWorker> logger) : BackgroundService
{
    private const int Parallelism = 4;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        try
        {
            await foreach (var activity in queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                running.Add(ProcessAsync(activity, stoppingToken));
                if (running.Count >= Parallelism)
                    running.Remove(await Task.WhenAny(running).ConfigureAwait(false));
                running.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task ProcessAsync(Activity activity, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var processor = scope.ServiceProvider.GetRequiredService<TeamsActivityProcessor>();
            await processor.ProcessAsync(activity, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex)
        {
            LogFailed(logger, activity.Type, activity.Id, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Teams activity {ActivityType} {ActivityId} could not be processed")]
    private static partial void LogFailed(ILogger logger, string? activityType, string? activityId, Exception exception);
}
