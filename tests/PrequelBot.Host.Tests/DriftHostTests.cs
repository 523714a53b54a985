using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Jobs;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Tests;

/// <summary>
/// The drift watch through the real host: Hangfire's recurring scheduler fires the <c>drift-sweep</c> job (a one-second
/// interval, so a six-field cron), the check jobs run, and the notice reaches chat once per change of findings.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class DriftHostTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-drift-" + Guid.NewGuid().ToString("N"));

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
        return Task.CompletedTask;
    }

    private static async Task<long> ChecksAfterAsync(BotHost host, long atLeast)
    {
        long checks = 0;
        await BotHost.EventuallyAsync(() =>
        {
            checks = Check.Count;
            return Task.FromResult(checks >= atLeast);
        }, $"{atLeast} drift checks ran", TimeSpan.FromSeconds(60));
        return checks;
    }

    private static readonly ScriptedCheck Check = new();

    [Fact]
    public async Task The_recurring_sweep_posts_one_notice_per_change_of_findings_and_nothing_while_they_stay_the_same()
    {
        Check.Reset();
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        var settings = BotHost.Sqlite(_directory);
        settings["Drift:Interval"] = "00:00:01";
        await using var host = new BotHost(settings, new FakeInfrastructure(), chat, s =>
        {
            s.RemoveAll<IConnectionCheck>();
            s.AddSingleton<IConnectionCheck>(Check);
        });
        using (var connection = host.Services.GetRequiredService<JobStorage>().GetConnection())
        {
            var recurring = Assert.Single(connection.GetRecurringJobs(), j => j.Id == DriftJob.RecurringJobId);
            Assert.Equal("* * * * * *", recurring.Cron);
        }

        var id = (await host.SayAsync("connect mydb")).StartedOnboardingId!;
        await RealWorld.ApproveUntilCompletedAsync(host, chat, id);
        var baseline = await ChecksAfterAsync(host, Check.Count + 2);
        Assert.Empty(chat.Notices); // all ok since the connect: nothing to say

        Check.Drifted = true;
        await BotHost.EventuallyAsync(() => Task.FromResult(chat.Notices.Count == 1), "the drift notice is posted", TimeSpan.FromSeconds(60));
        await ChecksAfterAsync(host, Check.Count + 3);
        var drift = Assert.Single(chat.Notices);
        Assert.Equal($"Drift on mydb (connected by {id}):", drift.Headline);
        Assert.Equal("drift: security group sg-0dedicated no longer has the rule TCP 5432 from 34.66.12.34/32 PrequelBot added", drift.Lines[0]);

        Check.Drifted = false;
        await BotHost.EventuallyAsync(() => Task.FromResult(chat.Notices.Count == 2), "the no-drift notice is posted", TimeSpan.FromSeconds(60));
        await ChecksAfterAsync(host, Check.Count + 3);
        Assert.Equal(2, chat.Notices.Count);
        Assert.Equal($"mydb: no drift any more; every check ok (connected by {id}).", chat.Notices[1].Text);
        Assert.True(baseline >= 2);
        foreach (var notice in chat.Notices) output.WriteLine(notice.Text + "\n");
    }

    [Fact]
    public async Task On_PostgreSQL_the_recurring_sweep_is_registered_and_claims_each_database_in_the_shared_store()
    {
        var database = TestEnvironment.UniqueName("drift");
        var settings = await BotHost.PostgresAsync(database);
        try
        {
            settings["Drift:Interval"] = "00:00:01";
            await using var host = new BotHost(settings, new FakeInfrastructure(), new RecordingChatPlatform(BotHost.TestPlatform));
            using (var connection = host.Services.GetRequiredService<JobStorage>().GetConnection())
                Assert.Contains(connection.GetRecurringJobs(), j => j.Id == DriftJob.RecurringJobId && j.Cron == "* * * * * *");
            var store = host.Services.GetRequiredService<IStateStore>();
            await BotHost.EventuallyAsync(async () => await store.GetDriftAsync("mydb", CancellationToken.None) is not null,
                "the sweep claimed mydb", TimeSpan.FromSeconds(60));
        }
        finally
        {
            await BotHost.DropPostgresAsync(database);
        }
    }

    [Fact]
    public async Task An_interval_of_zero_removes_the_recurring_job()
    {
        var settings = BotHost.Sqlite(_directory);
        settings["Drift:Interval"] = "00:00:00";
        await using var host = new BotHost(settings, new FakeInfrastructure(), new RecordingChatPlatform(BotHost.TestPlatform));

        using var connection = host.Services.GetRequiredService<JobStorage>().GetConnection();
        Assert.DoesNotContain(connection.GetRecurringJobs(), j => j.Id == DriftJob.RecurringJobId);
    }

    /// <summary>Answers all ok, or one revoked rule while <see cref="Drifted"/>; counts the checks.</summary>
    private sealed class ScriptedCheck : IConnectionCheck
    {
        private long _count;

        public volatile bool Drifted;

        public long Count => Interlocked.Read(ref _count);

        public string Area => "AWS";

        public void Reset()
        {
            Drifted = false;
            Interlocked.Exchange(ref _count, 0);
        }

        public Task<IReadOnlyList<CheckFinding>> CheckAsync(ConnectionCheckContext context, CancellationToken cancellationToken)
        {
            var drifted = Drifted;
            Interlocked.Increment(ref _count);
            return Task.FromResult<IReadOnlyList<CheckFinding>>(drifted
                ? [CheckFinding.Drift("security group sg-0dedicated no longer has the rule TCP 5432 from 34.66.12.34/32 PrequelBot added"), CheckFinding.Fine("35.192.85.117 reaches TCP 5432")]
                : [CheckFinding.Fine("35.192.85.117 reaches TCP 5432"), CheckFinding.Fine("34.66.12.34 reaches TCP 5432")]);
        }
    }
}
