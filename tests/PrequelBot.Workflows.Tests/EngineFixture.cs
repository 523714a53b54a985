using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.State;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Tests;

/// <summary>
/// The workflow with its real state store (SQLite in a temp file), the in-memory ports and a manual scheduler and
/// clock: every job runs when the test drains the scheduler, so each test is deterministic.
/// </summary>
public sealed class EngineFixture : IDisposable
{
    public static readonly ChatUser Requester = new(ChatPlatforms.Slack, "UREQUESTER", "rita");
    public static readonly ChatUser Approver = new(ChatPlatforms.Slack, "UAPPROVER", "alex");
    public static readonly ChatUser Stranger = new(ChatPlatforms.Slack, "USTRANGER", "sam");
    public static readonly ConversationRef Channel = new(ChatPlatforms.Slack, "C0CHANNEL");

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-engine-" + Guid.NewGuid().ToString("N"));

    private readonly Dictionary<string, string?> _settings;
    private readonly TimeProvider _time;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="settings">Settings over the defaults below.</param>
    /// <param name="realTime">Use the real clock (leases and heartbeats in real time) instead of <see cref="Clock"/>.</param>
    /// <param name="services">Extra registrations (e.g. an <c>IConnectionCheck</c>).</param>
    public EngineFixture(Dictionary<string, string?>? settings = null, bool realTime = false, Action<IServiceCollection>? services = null)
    {
        _services = services;
        Directory.CreateDirectory(_directory);
        var values = new Dictionary<string, string?>
        {
            ["Approvals:Approvers:0"] = Approver.Id,
            ["Approvals:Approvers:1"] = "UAPPROVER2",
            ["Approvals:Timeout"] = "01:00:00",
            ["Databases:mydb:InstanceIdentifier"] = "mydb-prod",
            ["Databases:mydb:AdminConnectionString"] = "Host=db.internal;Username=admin;Password=not-used-here",
            ["Databases:other:AdminConnectionString"] = "Host=db.internal;Username=admin;Password=not-used-here",
        };
        foreach (var (k, v) in settings ?? []) values[k] = v;
        _settings = values;
        _time = realTime ? TimeProvider.System : Clock;
        Services = Build();
    }

    /// <summary>
    /// A restart: a new process on the same state file, with <paramref name="settings"/> changed; the in-memory job queue
    /// is lost and the start-up reconciler runs. The fake world and the chat recording carry over, as real ones would.
    /// </summary>
    public async Task RestartAsync(Dictionary<string, string?>? settings = null)
    {
        foreach (var (k, v) in settings ?? []) _settings[k] = v;
        await Services.DisposeAsync();
        Work.Pending.Clear();
        Services = Build();
        await Reconciler.ReconcileAsync(startup: true, CancellationToken.None);
    }

    private ServiceProvider Build()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSingleton(_time);
        services.AddSingleton<IWorkScheduler>(Work);
        services.AddSingleton<IStateStore>(Store = new SqliteStateStore($"Data Source={Path.Combine(_directory, "state.db")}"));
        services.AddSingleton(new StorageTopology(SingleNode: true, VolatileJobQueue: true));
        services.AddPrequelWorkflows();
        services.AddPrequelSecrets();
        services.ReplaceStepHandlers(World.Handlers());
        services.AddSingleton<IChatPlatform>(Chat);
        _services?.Invoke(services);
        var provider = services.BuildServiceProvider();
        Store.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
        return provider;
    }

    public FakeInfrastructure World { get; } = new();
    public RecordingChatPlatform Chat { get; } = new();
    public ManualWorkScheduler Work { get; } = new();
    public ManualClock Clock { get; } = new();
    public IStateStore Store { get; private set; } = null!;
    public ServiceProvider Services { get; private set; }

    public IChatCommandHandler Commands => Services.GetRequiredService<IChatCommandHandler>();
    public IApprovalDecider Decider => Services.GetRequiredService<IApprovalDecider>();
    public Reconciler Reconciler => Services.GetRequiredService<Reconciler>();

    public Task<CommandReply> SayAsync(string text, ChatUser? user = null) =>
        Commands.HandleAsync(new ChatRequest(user ?? Requester, Channel, text), CancellationToken.None);

    public async Task<string> ConnectAsync(string text = "connect mydb")
    {
        var reply = await SayAsync(text);
        Assert.False(reply.IsError, reply.Text);
        await DrainAsync();
        return reply.StartedOnboardingId!;
    }

    public Task<int> DrainAsync(bool includeDelayed = false) =>
        Work.DrainAsync(Services.GetRequiredService<StepRunner>(), Services.GetRequiredService<ChatOutbox>(), includeDelayed, clock: Clock);

    public async Task<OnboardingAggregate> LoadAsync(string id) =>
        await Store.LoadAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"{id} not found");

    /// <summary>Clicks a button on the onboarding's pending prompt as it was posted to chat.</summary>
    public async Task<DecisionResult> ClickAsync(string onboardingId, ChatUser user, bool approve = true)
    {
        var prompt = Chat.PendingPrompt(onboardingId) ?? throw new InvalidOperationException("no pending prompt was posted");
        var result = await Decider.DecideAsync(prompt.ApprovalId, user, approve, CancellationToken.None);
        await DrainAsync();
        return result;
    }

    /// <summary>Approves every prompt as it appears until the onboarding finishes; returns the steps approved.</summary>
    public async Task<List<string>> ApproveAllAsync(string onboardingId)
    {
        var approved = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            await DrainAsync(includeDelayed: true);
            var prompt = Chat.PendingPrompt(onboardingId);
            if (prompt is null) break;
            approved.Add(prompt.Step);
            var result = await ClickAsync(onboardingId, Approver);
            Assert.Equal(DecisionOutcome.Recorded, result.Outcome);
        }
        await DrainAsync(includeDelayed: true);
        return approved;
    }

    public void Dispose()
    {
        Services.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
