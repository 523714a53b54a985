using System.Reflection;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Utils;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PrequelBot.State.Jobs;

/// <summary>
/// Wakes this process's idle Hangfire workers when any node enqueues a job, over ONE PostgreSQL connection per
/// process instead of Hangfire.PostgreSql's long polling, which holds a LISTEN connection per idle worker (16 of an
/// idle node's 45 connections; docs/architecture.md, "Jobs on PostgreSQL"). Two halves:
/// <list type="bullet">
/// <item>A trigger on <c>hangfire.jobqueue</c>: when a job is queued (a new job, a due scheduled job, a retry) or
/// handed back (a graceful shutdown's requeue), the same transaction sends <c>pg_notify('prequelbot_jobs', queue)</c>,
/// which PostgreSQL delivers to every listening node at commit and drops on rollback.</item>
/// <item><see cref="Listener"/>: one connection per process LISTENs and, for each notification, sets the per-queue
/// signal that Hangfire.PostgreSql's own in-process enqueue sets, which wakes one local worker of that queue.</item>
/// </list>
/// That signal is Hangfire.PostgreSql's (1.21) internal static <c>PostgreSqlJobQueue._queueEventRegistry</c>; it is
/// found once by reflection. When it is missing (another version), <see cref="IsAvailable"/> is false and storage
/// set-up keeps <c>EnableLongPolling</c> instead: slower to start, never lost. A notification that is lost anyway
/// (the listener reconnecting) costs at most <c>QueuePollInterval</c>, Hangfire's own fallback poll.
/// </summary>
public static partial class PostgresJobWakeup
{
    public const string Channel = "prequelbot_jobs";

    private static readonly AutoResetEventRegistry? Registry =
        typeof(PostgreSqlJobQueue).GetField("_queueEventRegistry", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null) as AutoResetEventRegistry;

    /// <summary>Whether this Hangfire.PostgreSql exposes the per-queue signal; if not, use its long polling.</summary>
    public static bool IsAvailable => Registry is not null;

    /// <summary>Wakes one idle local worker serving <paramref name="queue"/>, as an enqueue in this process would.</summary>
    public static void WakeLocalWorker(string queue) => Registry?.Set(queue);

    /// <summary>The signal the local workers of <paramref name="queue"/> wait on (for tests and diagnostics); null when unavailable.</summary>
    public static WaitHandle? LocalSignal(string queue) => Registry?.GetWaitHandles([queue]).Single();

    /// <summary>The process's one LISTEN connection; reconnects with back-off.</summary>
    public sealed partial class Listener(string connectionString, ILogger<Listener> logger) : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            var failures = 0;
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 30, ApplicationName = "prequelbot-job-wakeup" };
                    await using var connection = new NpgsqlConnection(builder.ConnectionString);
                    await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
                    connection.Notification += (_, e) => WakeLocalWorker(e.Payload);
                    await EnsureTriggerAsync(connection, stoppingToken).ConfigureAwait(false);
                    await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                        await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    failures = 0;
                    while (!stoppingToken.IsCancellationRequested) await connection.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    failures++;
                    LogReconnecting(logger, e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * (1 << Math.Min(failures, 7)))), stoppingToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>
        /// Creates the notify trigger once Hangfire has created its schema; under an advisory lock, so nodes starting
        /// together do not race, and re-created on every start, so an upgrade replaces it.
        /// </summary>
        private static async Task EnsureTriggerAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
        {
            for (var attempt = 1; ; attempt++)
            {
                await using var exists = new NpgsqlCommand("SELECT to_regclass('hangfire.jobqueue') IS NOT NULL", connection);
                if ((bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!) break;
                if (attempt >= 600) throw new TimeoutException("Hangfire's schema (hangfire.jobqueue) did not appear");
                await Task.Delay(100, cancellationToken).ConfigureAwait(false); // Hangfire prepares it at start-up
            }
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using var create = new NpgsqlCommand($"""
                SELECT pg_advisory_xact_lock(hashtext('{Channel}'));
                CREATE OR REPLACE FUNCTION hangfire.prequelbot_notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  PERFORM pg_notify('{Channel}', NEW.queue);
                  RETURN NULL;
                END $$;
                DROP TRIGGER IF EXISTS prequelbot_notify_job ON hangfire.jobqueue;
                CREATE TRIGGER prequelbot_notify_job AFTER INSERT OR UPDATE OF fetchedat ON hangfire.jobqueue
                  FOR EACH ROW WHEN (NEW.fetchedat IS NULL) EXECUTE FUNCTION hangfire.prequelbot_notify_job();
                """, connection, transaction);
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Job wake-up listener lost its PostgreSQL connection ({Reason}); reconnecting. Meanwhile workers poll.")]
        private static partial void LogReconnecting(ILogger logger, string reason);
    }
}
