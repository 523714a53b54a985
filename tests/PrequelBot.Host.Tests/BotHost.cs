using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Tests;

/// <summary>Host-level tests share Hangfire's global configuration, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostTestGroup
{
    public const string Name = "host";
}

/// <summary>
/// The real host (Program, Hangfire servers, reconciler, state store) in-process, with the in-memory ports for
/// the outside world. The world and the chat are passed in so they outlive a host: a restarted host sees the
/// same AWS/PostgreSQL/Prequel and the same chat, as it would in production. Without a world (null), the host keeps
/// its real step adapters (AWS, PostgreSQL, Prequel), pointed by the settings at real or fake servers.
/// </summary>
public sealed class BotHost : IAsyncDisposable
{
    public const string TestPlatform = "test";
    public static readonly ChatUser Requester = new(TestPlatform, "UREQUESTER", "rita");
    public static readonly ChatUser Approver = new(TestPlatform, "UAPPROVER", "alex");
    public static readonly ConversationRef Channel = new(TestPlatform, "C0CHANNEL");

    private readonly WebApplicationFactory<Program> _factory;

    public BotHost(Dictionary<string, string?> settings, FakeInfrastructure? world, IChatPlatform chat, Action<IServiceCollection>? services = null)
    {
        // Approvers are platform-qualified (docs/security.md, "Identities"): this chat is the "test" platform.
        var values = BaseSettings($"{TestPlatform}:{Approver.Id}");
        foreach (var (k, v) in settings) values[k] = v;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(values));
            builder.ConfigureTestServices(s =>
            {
                if (world is not null) s.ReplaceStepHandlers(world.Handlers());
                s.AddSingleton<IChatPlatform>(chat);
                services?.Invoke(s);
            });
        });
        _ = _factory.Server; // start now: hosted services (schema, Hangfire, reconciler) run from here on
    }

    public IServiceProvider Services => _factory.Services;

    public HttpClient CreateClient() => _factory.CreateClient();

    /// <summary>The in-process server, for requests whose connection details (remote address) a test sets itself.</summary>
    public TestServer Server => _factory.Server;

    public Task<CommandReply> SayAsync(string text, ChatUser? user = null) =>
        Services.GetRequiredService<IChatCommandHandler>().HandleAsync(new ChatRequest(user ?? Requester, Channel, text), CancellationToken.None);

    public Task<DecisionResult> DecideAsync(string approvalId, bool approve = true, ChatUser? user = null) =>
        Services.GetRequiredService<IApprovalDecider>().DecideAsync(approvalId, user ?? Approver, approve, CancellationToken.None);

    public async Task<OnboardingAggregate> LoadAsync(string id) =>
        await Services.GetRequiredService<IStateStore>().LoadAsync(id, CancellationToken.None) ?? throw new InvalidOperationException(id);

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes (then fails with <paramref name="what"/>).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(50);
        }
        Assert.Fail($"Timed out waiting until {what}.");
    }

    /// <summary>
    /// What every host test needs whatever its chat: one approver, the database alias <c>mydb</c>, and workflow timings
    /// short enough for tests (reconcile every second, 3 s step leases, small worker pools).
    /// </summary>
    public static Dictionary<string, string?> BaseSettings(string approverId) => new()
    {
        ["Approvals:Approvers:0"] = approverId,
        ["Databases:mydb:InstanceIdentifier"] = "mydb-prod",
        ["Databases:mydb:AdminConnectionString"] = "Host=db.internal;Username=admin;Password=x",
        ["Workflow:ReconcileInterval"] = "00:00:01",
        ["Workflow:StepLease"] = "00:00:03",
        ["Workflow:Workers"] = "4",
        ["Workflow:ApprovalWorkers"] = "2",
        ["Workflow:RecheckWorkers"] = "2",
    };

    /// <summary>Settings for a fresh SQLite state file.</summary>
    public static Dictionary<string, string?> Sqlite(string directory) => new()
    {
        ["Storage:Provider"] = "Sqlite",
        ["Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "state.db")}",
    };

    /// <summary>Creates an empty PostgreSQL database for one test and returns its settings.</summary>
    public static async Task<Dictionary<string, string?>> PostgresAsync(string database)
    {
        await using (var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString))
        await using (var create = admin.CreateCommand($"CREATE DATABASE \"{database}\""))
            await create.ExecuteNonQueryAsync();
        return new()
        {
            ["Storage:Provider"] = "Postgres",
            ["Storage:ConnectionString"] = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = database }.ConnectionString,
        };
    }

    public static async Task DropPostgresAsync(string database)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);
        await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }
}
