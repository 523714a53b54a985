using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// Runs work that must outlive the HTTP request (a late command reply, a private "not allowed" answer) with the
/// application's stopping token. Failures are logged with what was being sent, never with message content or secrets.
/// </summary>
public sealed partial class SlackBackgroundReplies(IHostApplicationLifetime lifetime, ILogger<SlackBackgroundReplies> logger)
{
    /// <summary>Cancelled when the application stops.</summary>
    public CancellationToken Stopping => lifetime.ApplicationStopping;

    /// <summary>Starts <paramref name="work"/> in the background; returns the task (tests may await it).</summary>
    public Task Run(string what, Func<CancellationToken, Task> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var stopping = lifetime.ApplicationStopping;
        return Task.Run(async () =>
        {
            try
            {
                await work(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                LogCancelled(logger, what);
            }
#pragma warning disable CA1031 // A background reply must never crash the process; the failure is logged.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                LogFailed(logger, exception, what);
            }
        }, CancellationToken.None);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack background reply {What} failed")]
    private static partial void LogFailed(ILogger logger, Exception exception, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack background reply {What} cancelled by shutdown")]
    private static partial void LogCancelled(ILogger logger, string what);
}
