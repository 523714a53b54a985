using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.States;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PrequelBot.State.Jobs;
using PrequelBot.Testing;

namespace PrequelBot.State.Tests;

/// <summary>
/// The one-connection job wake-up on the real PostgreSQL (docs/architecture.md, "Jobs on PostgreSQL"): the trigger
/// notifies at commit with the queue's name, and the listener turns a notification into the local workers' signal.
/// </summary>
public sealed class PostgresJobWakeupTests : IAsyncLifetime
{
    private readonly string _database = TestEnvironment.UniqueName("wakeup");
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        await using var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);
        await using (var create = admin.CreateCommand($"CREATE DATABASE \"{_database}\"")) await create.ExecuteNonQueryAsync();
        _connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = _database, Pooling = false }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        await using var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);
        await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }

    private async Task<PostgresJobWakeup.Listener> StartListenerAsync()
    {
        var listener = new PostgresJobWakeup.Listener(_connectionString, NullLogger<PostgresJobWakeup.Listener>.Instance);
        await listener.StartAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        // The listener waits for Hangfire's schema, then installs its trigger and LISTENs.
        while (DateTime.UtcNow < deadline)
        {
            await using var check = new NpgsqlCommand(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'prequelbot_notify_job' AND EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'prequelbot-job-wakeup' AND datname = current_database() AND query LIKE 'LISTEN%')", connection);
            if ((long)(await check.ExecuteScalarAsync())! == 1) return listener;
            await Task.Delay(50);
        }
        throw new TimeoutException("the listener did not install its trigger and LISTEN");
    }

    [Fact]
    public async Task Enqueueing_a_job_notifies_every_listening_node_with_its_queue_at_commit()
    {
        Assert.True(PostgresJobWakeup.IsAvailable, "Hangfire.PostgreSql's per-queue signal was not found: storage falls back to long polling");
        var storage = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(_connectionString, new PostgreSqlStorageOptions()), new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = true });
        var listener = await StartListenerAsync();
        try
        {
            // Another node: its own connection, listening on the channel.
            await using var other = new NpgsqlConnection(_connectionString);
            await other.OpenAsync();
            var payloads = new List<string>();
            other.Notification += (_, e) => { lock (payloads) payloads.Add(e.Payload); };
            await using (var listen = new NpgsqlCommand($"LISTEN {PostgresJobWakeup.Channel}", other)) await listen.ExecuteNonQueryAsync();

            new BackgroundJobClient(storage).Create(Job.FromExpression(() => WakeupTestJob.Noop()), new EnqueuedState("approvals"));
            await other.WaitAsync(TimeSpan.FromSeconds(10));

            lock (payloads) Assert.Equal(["approvals"], payloads);
        }
        finally
        {
            await listener.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_notification_from_another_node_wakes_a_local_worker_of_that_queue_only()
    {
        var storage = new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(_connectionString, new PostgreSqlStorageOptions()), new PostgreSqlStorageOptions { PrepareSchemaIfNecessary = true });
        _ = storage;
        var listener = await StartListenerAsync();
        try
        {
            var steps = PostgresJobWakeup.LocalSignal("wakeup-test-steps")!;
            var chat = PostgresJobWakeup.LocalSignal("wakeup-test-chat")!;
            steps.WaitOne(0);
            chat.WaitOne(0); // start unsignalled

            await using var other = new NpgsqlConnection(_connectionString);
            await other.OpenAsync();
            await using (var notify = new NpgsqlCommand("SELECT pg_notify(@c, 'wakeup-test-steps')", other))
            {
                notify.Parameters.AddWithValue("c", PostgresJobWakeup.Channel);
                await notify.ExecuteNonQueryAsync();
            }

            Assert.True(steps.WaitOne(TimeSpan.FromSeconds(10)), "the steps queue's workers were not woken");
            Assert.False(chat.WaitOne(TimeSpan.FromMilliseconds(300)), "another queue's workers were woken");
        }
        finally
        {
            await listener.StopAsync(CancellationToken.None);
        }
    }
}

/// <summary>A job that does nothing (only enqueued, never run).</summary>
public static class WakeupTestJob
{
    public static void Noop() { }
}
