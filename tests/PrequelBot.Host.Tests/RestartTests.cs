using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Jobs;

namespace PrequelBot.Host.Tests;

/// <summary>
/// Stop the host mid-workflow, start a new one on the same state, and the onboarding finishes with every
/// effect applied exactly once — on SQLite (Hangfire in memory: the queue is lost) and on PostgreSQL.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class RestartTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-host-" + Guid.NewGuid().ToString("N"));
    private readonly string _database = TestEnvironment.UniqueName("restart");
    private bool _usedPostgres;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_usedPostgres) await BotHost.DropPostgresAsync(_database);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private async Task<Dictionary<string, string?>> SettingsAsync(string provider)
    {
        if (provider == "Sqlite") return BotHost.Sqlite(_directory);
        _usedPostgres = true;
        return await BotHost.PostgresAsync(_database);
    }

    private static async Task<string> PendingPromptStepAsync(RecordingChatPlatform chat, string id, string step)
    {
        await BotHost.EventuallyAsync(() => Task.FromResult(chat.PendingPrompt(id)?.Step == step), $"a prompt for {step} is posted");
        return chat.PendingPrompt(id)!.ApprovalId;
    }

    private static async Task ApproveUntilCompletedAsync(BotHost host, RecordingChatPlatform chat, string id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var agg = await host.LoadAsync(id);
            if (agg.Onboarding.State == OnboardingState.Completed) return;
            Assert.NotEqual(OnboardingState.Failed, agg.Onboarding.State);
            if (chat.PendingPrompt(id) is { } prompt) await host.DecideAsync(prompt.ApprovalId);
            await Task.Delay(50);
        }
        Assert.Fail($"{id} did not complete: {(await host.LoadAsync(id)).Onboarding.State}");
    }

    private static void AssertEveryEffectOnce(FakeInfrastructure world, OnboardingRequest request)
    {
        foreach (var step in new[] { StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource })
            Assert.Equal(1, world.EffectCount(FakeInfrastructure.EffectOf(step, request)));
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task An_onboarding_waiting_for_approval_survives_a_restart(string provider)
    {
        var settings = await SettingsAsync(provider);
        var world = new FakeInfrastructure();
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        string id;
        await using (var first = new BotHost(settings, world, chat))
        {
            id = (await first.SayAsync("connect mydb")).StartedOnboardingId!;
            await PendingPromptStepAsync(chat, id, StepNames.PublicAccess);
        }

        await using var second = new BotHost(settings, world, chat);
        await ApproveUntilCompletedAsync(second, chat, id);

        AssertEveryEffectOnce(world, (await second.LoadAsync(id)).Onboarding.Request);
        Assert.Single(chat.Cards);
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task A_step_stopped_while_running_is_resumed_after_a_restart_and_applied_once(string provider)
    {
        var settings = await SettingsAsync(provider);
        var world = new FakeInfrastructure();
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        world.ApplyGates[StepNames.SecurityGroup] = new TaskCompletionSource(); // never released: the step hangs
        string id;
        await using (var first = new BotHost(settings, world, chat))
        {
            id = (await first.SayAsync("connect mydb")).StartedOnboardingId!;
            await first.DecideAsync(await PendingPromptStepAsync(chat, id, StepNames.PublicAccess));
            await first.DecideAsync(await PendingPromptStepAsync(chat, id, StepNames.SecurityGroup));
            await world.ApplyStarted.GetOrAdd(StepNames.SecurityGroup, _ => new TaskCompletionSource()).Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(StepState.Running, (await first.LoadAsync(id)).Step(StepNames.SecurityGroup).State);
        }
        world.ApplyGates.Clear();

        await using var second = new BotHost(settings, world, chat);
        await ApproveUntilCompletedAsync(second, chat, id);

        AssertEveryEffectOnce(world, (await second.LoadAsync(id)).Onboarding.Request);
        Assert.Equal(1, world.EffectCount("public:mydb-prod"));
        var audit = await second.Services.GetRequiredService<PrequelBot.Workflows.Ports.IStateStore>().GetAuditAsync(id, CancellationToken.None);
        Assert.Contains(audit, e => e.Action == "step-resumed" && e.Detail!.StartsWith(StepNames.SecurityGroup, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task An_approved_step_whose_job_was_lost_runs_after_a_restart(string provider)
    {
        var settings = await SettingsAsync(provider);
        var world = new FakeInfrastructure();
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        string id;
        // The first host loses every job an approval enqueues (as an in-memory queue does when the process dies).
        await using (var first = new BotHost(settings, world, chat, s => s.AddSingleton<IWorkScheduler>(sp =>
                         new LosingApprovedSteps(new HangfireWorkScheduler(sp.GetRequiredService<IBackgroundJobClient>())))))
        {
            id = (await first.SayAsync("connect mydb")).StartedOnboardingId!;
            await first.DecideAsync(await PendingPromptStepAsync(chat, id, StepNames.PublicAccess));
            Assert.Equal(StepState.Approved, (await first.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        }

        await using var second = new BotHost(settings, world, chat);
        await ApproveUntilCompletedAsync(second, chat, id);

        AssertEveryEffectOnce(world, (await second.LoadAsync(id)).Onboarding.Request);
    }

    private sealed class LosingApprovedSteps(IWorkScheduler inner) : IWorkScheduler
    {
        public void RunStep(string onboardingId, string stepName) => inner.RunStep(onboardingId, stepName);
        public void RunApprovedStep(string onboardingId, string stepName) { }
        public void RunStepLater(string onboardingId, string stepName, TimeSpan delay) => inner.RunStepLater(onboardingId, stepName, delay);
        public void SyncChat(string onboardingId) => inner.SyncChat(onboardingId);
        public void SyncChatLater(string onboardingId, TimeSpan delay) => inner.SyncChatLater(onboardingId, delay);
    }
}
