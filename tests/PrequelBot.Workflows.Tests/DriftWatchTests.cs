using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Jobs;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Tests;

/// <summary>
/// The drift watch (docs/workflow.md, "Drift") through the engine, its real SQLite store, a scripted connection check
/// and the recording chat: what is due, and that chat hears of a change of findings once.
/// </summary>
public sealed class DriftWatchTests : IDisposable
{
    private readonly ScriptedCheck _check = new();
    private readonly EngineFixture _f;

    public DriftWatchTests()
    {
        _f = new EngineFixture(new() { ["Drift:Interval"] = "01:00:00" }, services: s => s.AddSingleton<IConnectionCheck>(_check));
    }

    public void Dispose() => _f.Dispose();

    private DriftWatch Watch => _f.Services.GetRequiredService<DriftWatch>();

    private DriftNotices Notices => _f.Services.GetRequiredService<DriftNotices>();

    /// <summary>One sweep as the recurring job runs it, with its checks and posts run at once; returns the aliases checked.</summary>
    private async Task<IReadOnlyList<string>> SweepAsync()
    {
        var sweep = await Watch.SweepAsync(CancellationToken.None);
        foreach (var alias in sweep.Due)
        {
            if (await Watch.CheckAsync(alias, CancellationToken.None)) await Notices.PostPendingAsync(alias, CancellationToken.None);
        }
        foreach (var alias in sweep.NoticesPending.Except(sweep.Due)) await Notices.PostPendingAsync(alias, CancellationToken.None);
        return sweep.Due;
    }

    private async Task<string> ConnectedAsync()
    {
        var id = await _f.ConnectAsync();
        await _f.ApproveAllAsync(id);
        return id;
    }

    [Fact]
    public async Task Each_configured_database_is_due_once_per_interval()
    {
        Assert.Equal(["mydb", "other"], await SweepAsync());
        Assert.Empty(await SweepAsync());

        _f.Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Empty(await SweepAsync());
        _f.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(["mydb", "other"], await SweepAsync());
        Assert.Empty(_check.Calls); // neither is connected: nothing was checked
    }

    [Fact]
    public async Task A_first_all_ok_check_and_a_repeated_finding_set_post_nothing_a_change_posts_once_and_so_does_the_clearing()
    {
        var connect = await ConnectedAsync();

        await SweepAsync();
        Assert.Equal(1, _check.Calls.Count(c => c == connect));
        Assert.Empty(_f.Chat.Notices);

        _check.Findings = [CheckFinding.Fine("mydb-prod is publicly accessible"), CheckFinding.Drift("34.66.12.34 cannot reach TCP 5432")];
        _f.Clock.Advance(TimeSpan.FromHours(1));
        await SweepAsync();
        var drift = Assert.Single(_f.Chat.Notices);
        Assert.Equal($"Drift on mydb (connected by {connect}):", drift.Headline);
        Assert.Equal("drift: 34.66.12.34 cannot reach TCP 5432", drift.Lines[0]);

        for (var i = 0; i < 3; i++)
        {
            _f.Clock.Advance(TimeSpan.FromHours(1));
            await SweepAsync();
        }
        Assert.Single(_f.Chat.Notices);

        _check.Findings = [CheckFinding.Drift("34.66.12.34 cannot reach TCP 5432"), CheckFinding.Drift("mydb-prod is no longer publicly accessible")];
        _f.Clock.Advance(TimeSpan.FromHours(1));
        await SweepAsync();
        Assert.Equal(2, _f.Chat.Notices.Count);
        Assert.Equal($"Drift on mydb (connected by {connect}) changed; now:", _f.Chat.Notices[1].Headline);

        _check.Findings = [CheckFinding.Fine("mydb-prod is publicly accessible")];
        _f.Clock.Advance(TimeSpan.FromHours(1));
        await SweepAsync();
        _f.Clock.Advance(TimeSpan.FromHours(1));
        await SweepAsync();
        Assert.Equal(3, _f.Chat.Notices.Count);
        Assert.Equal($"mydb: no drift any more; every check ok (connected by {connect}).", _f.Chat.Notices[2].Text);
        Assert.All(_f.Chat.Posts.Values.Where(p => p.IsNotice), p => Assert.Equal(connect, p.OnboardingId));
    }

    [Fact]
    public async Task An_area_that_cannot_be_checked_posts_once_without_its_error_text_however_the_error_changes()
    {
        var connect = await ConnectedAsync();
        for (var i = 0; i < 3; i++)
        {
            _check.Findings = [CheckFinding.NotChecked("AWS", $": AccessDenied: User arn:aws:iam::123456789012:user/bot attempt {i}")];
            _f.Clock.Advance(TimeSpan.FromHours(1));
            await SweepAsync();
        }

        var notice = Assert.Single(_f.Chat.Notices);
        Assert.Equal(["drift: AWS could not be checked"], notice.Lines.Take(1));
        Assert.DoesNotContain("arn:", notice.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("123456789012", notice.Text, StringComparison.Ordinal);
        Assert.Equal(connect, _f.Chat.Posts.Values.Single(p => p.IsNotice).OnboardingId);
    }

    [Fact]
    public async Task A_notice_whose_post_answer_was_lost_is_found_again_and_not_posted_twice()
    {
        await ConnectedAsync();
        await SweepAsync();
        _check.Findings = [CheckFinding.Drift("34.66.12.34 cannot reach TCP 5432")];
        _f.Chat.LoseAnswerOf = p => p.IsNotice;
        _f.Clock.Advance(TimeSpan.FromHours(1));

        await Assert.ThrowsAsync<HttpRequestException>(() => SweepAsync());
        // The retry (or the next sweep) looks the post up first and adopts it.
        await SweepAsync();
        await Notices.PostPendingAsync("mydb", CancellationToken.None);

        Assert.Single(_f.Chat.Notices);
        Assert.Contains("find-card", _f.Chat.Calls);
        Assert.False((await _f.Store.GetDriftAsync("mydb", CancellationToken.None))!.NoticePending);
    }

    [Fact]
    public async Task A_database_with_another_onboarding_in_progress_is_skipped()
    {
        await ConnectedAsync();
        var disconnect = await _f.SayAsync("disconnect mydb");
        Assert.False(disconnect.IsError, disconnect.Text);
        _check.Findings = [CheckFinding.Drift("mydb-prod is no longer publicly accessible")];
        _check.Calls.Clear();

        await SweepAsync();

        Assert.Empty(_check.Calls);
        Assert.Empty(_f.Chat.Notices);
    }

    [Fact]
    public async Task An_interval_of_zero_turns_the_watch_off_and_a_negative_one_is_refused()
    {
        using var off = new EngineFixture(new() { ["Drift:Interval"] = "00:00:00" });
        var sweep = await off.Services.GetRequiredService<DriftWatch>().SweepAsync(CancellationToken.None);
        Assert.Empty(sweep.Due);

        var validator = new DriftOptionsValidator();
        Assert.True(validator.Validate(null, new DriftOptions { Interval = TimeSpan.Zero }).Succeeded);
        Assert.True(validator.Validate(null, new DriftOptions()).Succeeded);
        var negative = validator.Validate(null, new DriftOptions { Interval = TimeSpan.FromMinutes(-5) });
        Assert.True(negative.Failed);
        Assert.Contains("Drift:Interval", negative.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.00:00:00", "*/15 * * * *")]
    [InlineData("7.00:00:00", "*/15 * * * *")]
    [InlineData("06:00:00", "*/6 * * * *")]
    [InlineData("08:00:00", "*/6 * * * *")]
    [InlineData("10:00:00", "*/10 * * * *")]
    [InlineData("02:30:00", "*/2 * * * *")]
    [InlineData("01:00:00", "* * * * *")]
    [InlineData("00:01:00", "* * * * *")]
    [InlineData("00:00:59", "*/30 * * * * *")]
    [InlineData("00:00:05", "*/5 * * * * *")]
    [InlineData("00:00:01", "* * * * * *")]
    public void The_sweep_runs_often_enough_that_a_check_is_at_most_a_sixtieth_of_the_interval_late(string interval, string cron) =>
        Assert.Equal(cron, DriftSchedule.Cron(TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>An <see cref="IConnectionCheck"/> that answers what the test sets, and records which connect it checked.</summary>
    private sealed class ScriptedCheck : IConnectionCheck
    {
        public List<CheckFinding> Findings { get; set; } = [CheckFinding.Fine("mydb-prod is publicly accessible")];

        public List<string> Calls { get; } = [];

        public string Area => "AWS";

        public Task<IReadOnlyList<CheckFinding>> CheckAsync(ConnectionCheckContext context, CancellationToken cancellationToken)
        {
            Calls.Add(context.ConnectOnboardingId);
            return Task.FromResult<IReadOnlyList<CheckFinding>>(Findings);
        }
    }
}
