using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using System.Net;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

[Collection(HostTestGroup.Name)]
public sealed class HostTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-host-" + Guid.NewGuid().ToString("N"));

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

    [Fact]
    public async Task Health_and_readiness_answer_and_the_dashboard_is_served_locally()
    {
        await using var host = new BotHost(BotHost.Sqlite(_directory), new FakeInfrastructure(), new RecordingChatPlatform(BotHost.TestPlatform));
        using var client = host.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Finished_jobs_are_kept_minutes_not_a_day_so_waiting_onboardings_do_not_pile_them_up()
    {
        await using var host = new BotHost(BotHost.Sqlite(_directory), new FakeInfrastructure(), new RecordingChatPlatform(BotHost.TestPlatform));

        var storage = host.Services.GetRequiredService<Hangfire.JobStorage>();

        Assert.Equal(TimeSpan.FromMinutes(15), storage.JobExpirationTimeout);
    }

    [Fact]
    public async Task A_whole_onboarding_completes_through_the_real_hangfire_servers()
    {
        var world = new FakeInfrastructure { ReplicaChecksBeforeAvailable = 1 };
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        await using var host = new BotHost(new(BotHost.Sqlite(_directory)) { ["Workflow:RecheckInitialDelay"] = "00:00:01" }, world, chat);

        var id = (await host.SayAsync("connect mydb --replica")).StartedOnboardingId!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await host.LoadAsync(id)).Onboarding.State != OnboardingState.Completed && DateTime.UtcNow < deadline)
        {
            if (chat.PendingPrompt(id) is { } prompt) await host.DecideAsync(prompt.ApprovalId);
            await Task.Delay(50);
        }

        var agg = await host.LoadAsync(id);
        Assert.Equal(OnboardingState.Completed, agg.Onboarding.State);
        Assert.Equal(2, world.Applies[StepNames.WaitReplica]);
        Assert.Equal(6, chat.Prompts.Count);
        await BotHost.EventuallyAsync(() => Task.FromResult(chat.Cards.Single().State == OnboardingStates.Completed), "the card shows completed");
    }

    private static async Task<(int ExitCode, string Error)> RunHostProcessAsync(params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "PrequelBot.Host.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await error).Trim());
    }

    [Theory]
    [InlineData("--Prequel:StaticIps:0=35.192.85", "Prequel:StaticIps:0")]
    [InlineData("--Storage:Provider=Mongo", "Storage:Provider")]
    [InlineData("--Approvals:Timeout=soon", "Approvals:Timeout")]
    [InlineData("--Prequel:BaseUrl=not a url", "Prequel:BaseUrl")]
    [InlineData("--Prequel:ApiVersion=2020-01-01", "Prequel:ApiVersion")]
    public async Task A_bad_setting_stops_start_up_with_one_line_naming_the_key(string setting, string key)
    {
        var (exitCode, error) = await RunHostProcessAsync("--urls", "http://127.0.0.1:0", $"--Storage:ConnectionString=Data Source={Path.Combine(_directory, "s.db")}", setting);

        Assert.Equal(1, exitCode);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(key, error, StringComparison.Ordinal);
    }
}
