using Amazon.EC2.Model;
using Npgsql;
using PrequelBot.Aws.Rds;
using PrequelBot.Aws.Tests.Steps;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Prequel.Tests;
using PrequelBot.Testing;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>Out-of-process tests start several hosts one after another; they run one at a time to stay within 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EndToEndGroup
{
    public const string Name = "e2e";
}

/// <summary>
/// An approval prompt as a channel shows it while it still has its Approve button: its chat message (Slack ts, Teams
/// activity id), the step and approval it asks about, and where the platform needs them the thread and onboarding.
/// </summary>
public sealed record ChannelPrompt(string MessageId, string Step, string ApprovalId, string? ThreadId = null, string? OnboardingId = null);

/// <summary>Where people type the command and click Approve, and where the bot's card and prompts show (Slack or Teams).</summary>
public interface IChatChannel
{
    Task CommandAsync(HostProcess host, string text);
    Task ApproveAsync(HostProcess host, ChannelPrompt prompt);
    Task<string> WaitForOnboardingIdAsync(TimeSpan timeout);
    string? CardState(string onboardingId);
    string CardText(string onboardingId);
    IReadOnlyList<ChannelPrompt> PendingPrompts(string onboardingId);
    /// <summary>How many onboarding cards were delivered (a duplicate post counts twice, a refused one not at all).</summary>
    int CardPostCount();
    /// <summary>The step of every prompt delivered (a duplicate post shows twice, a refused one not at all).</summary>
    IReadOnlyList<string> PromptPostSteps();
    /// <summary>Whether any call the bot made to the chat platform carried <paramref name="secret"/>.</summary>
    bool EverCarried(string secret);
}

/// <summary><see cref="SlackWorkspace"/> as an <see cref="IChatChannel"/>.</summary>
public sealed class SlackChannel(SlackWorkspace slack) : IChatChannel
{
    public Task CommandAsync(HostProcess host, string text) => slack.CommandAsync(host, text);

    public Task ApproveAsync(HostProcess host, ChannelPrompt prompt) =>
        slack.ClickAsync(host, new SlackPrompt(prompt.MessageId, prompt.ThreadId!, prompt.OnboardingId!, prompt.Step, prompt.ApprovalId));

    public Task<string> WaitForOnboardingIdAsync(TimeSpan timeout) => slack.WaitForOnboardingIdAsync(timeout);

    public string? CardState(string onboardingId) => slack.CardState(onboardingId);

    public string CardText(string onboardingId) => slack.CardText(onboardingId);

    public IReadOnlyList<ChannelPrompt> PendingPrompts(string onboardingId) =>
        [.. slack.PendingPrompts(onboardingId).Select(p => new ChannelPrompt(p.Ts, p.Step, p.ApprovalId, p.ThreadTs, p.OnboardingId))];

    public int CardPostCount() => slack.CardPosts().Count;

    public IReadOnlyList<string> PromptPostSteps() => slack.PromptPostSteps();

    public bool EverCarried(string secret) => slack.Api.Calls.Any(call => call.Body.ToJsonString().Contains(secret, StringComparison.Ordinal));
}

/// <summary>
/// Everything outside the hosts, for one test: a database in moto (VPC, two subnets with an empty custom network ACL,
/// a security group, a DB subnet group, a private PostgreSQL instance), a fresh PostgreSQL database with a table as the
/// source, the fake Prequel API, the fake Slack Web API and channel, and the host processes started on them (all killed
/// in <see cref="DisposeAsync"/>, also when the test failed).
/// </summary>
public sealed class EndToEndWorld : IAsyncDisposable
{
    public const string Ip1 = "35.192.85.117";
    public const string Ip2 = "34.66.12.34";
    public const string Alias = "mydb";
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly List<HostProcess> _hosts = [];
    private readonly List<string> _databases = [];
    private int _started;

    private EndToEndWorld(string directory) => Directory = directory;

    public string Directory { get; }
    public MotoFixture Moto { get; } = new();
    public SeededDatabase Aws { get; private set; } = null!;
    public FakeSlackApi SlackApi { get; } = new("xoxb-e2e-bot-token");
    public SlackWorkspace Slack { get; private set; } = null!;
    /// <summary>The same workspace as an <see cref="IChatChannel"/>.</summary>
    public IChatChannel SlackChannel { get; private set; } = null!;
    public TeamsChannel Teams { get; private set; } = null!;
    public FakePrequelApi Prequel { get; private set; } = null!;
    /// <summary>The source database (a fresh one on the test cluster) with <c>public.orders</c>.</summary>
    public string SourceConnectionString { get; private set; } = "";
    /// <summary>A role name of this test only: roles are cluster-wide and other test projects run alongside.</summary>
    public string User { get; } = TestEnvironment.UniqueName("e2e_reader");

    public static async Task<EndToEndWorld> CreateAsync()
    {
        var world = new EndToEndWorld(Path.Combine(Path.GetTempPath(), "prequelbot-e2e-" + Guid.NewGuid().ToString("N")));
        System.IO.Directory.CreateDirectory(world.Directory);
        try
        {
            await world.SlackApi.StartAsync();
            world.Slack = new SlackWorkspace(world.SlackApi);
            world.SlackChannel = new SlackChannel(world.Slack);
            world.Teams = await TeamsChannel.StartAsync();
            world.Prequel = await FakePrequelApi.StartAsync();
            using var seeding = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            world.Aws = await MotoSeed.PrivateDatabaseAsync(world.Moto, seeding.Token);
            world.SourceConnectionString = await world.CreateDatabaseAsync("e2e_src", """
                CREATE TABLE public.orders (id int PRIMARY KEY, note text);
                INSERT INTO public.orders VALUES (1, 'first');
                """);
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an empty database (dropped at the end) and runs <paramref name="sql"/> in it.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix, string? sql = null)
    {
        var name = TestEnvironment.UniqueName(prefix);
        await using (var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString))
        await using (var create = admin.CreateCommand($"CREATE DATABASE \"{name}\""))
            await create.ExecuteNonQueryAsync();
        _databases.Add(name);
        var connectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = name, Pooling = false }.ConnectionString;
        if (sql is not null)
        {
            await using var source = NpgsqlDataSource.Create(connectionString);
            await using var command = source.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
        }

        return connectionString;
    }

    /// <summary>The settings of every host, as environment variables; <paramref name="storage"/> adds the state store.</summary>
    public Dictionary<string, string> Settings(IReadOnlyDictionary<string, string> storage)
    {
        var settings = new Dictionary<string, string>
        {
            ["Slack__SigningSecret"] = SlackWorkspace.SigningSecret,
            ["Slack__BotToken"] = SlackApi.BotToken,
            ["Slack__ApiBaseUrl"] = SlackApi.BaseUrl,
            ["Aws__ServiceUrl"] = Environment.GetEnvironmentVariable("Aws__ServiceUrl")!,
            ["Aws__Region"] = Environment.GetEnvironmentVariable("Aws__Region") is { Length: > 0 } region ? region : "us-east-1",
            ["Prequel__BaseUrl"] = Prequel.BaseUrl.ToString(),
            ["Prequel__ApiKey"] = FakePrequelApi.ProductionKey,
            ["Prequel__StaticIps__0"] = Ip1,
            ["Prequel__StaticIps__1"] = Ip2,
            [$"Databases__{Alias}__InstanceIdentifier"] = Aws.InstanceId,
            [$"Databases__{Alias}__AdminConnectionString"] = SourceConnectionString,
            ["Approvals__Approvers__0"] = SlackWorkspace.Approver,
            ["Approvals__Approvers__1"] = TeamsChannel.Approver.AadObjectId,
            ["Workflow__StepLease"] = "00:00:05",
            ["Workflow__ReconcileInterval"] = "00:00:02",
            ["Workflow__RecheckInitialDelay"] = "00:00:01",
            ["Workflow__RecheckMaxDelay"] = "00:00:02",
            // As the in-process host tests: enough workers for one onboarding, and fewer threads competing on 2 cores.
            ["Workflow__Workers"] = "4",
            ["Workflow__ApprovalWorkers"] = "2",
            ["Workflow__RecheckWorkers"] = "2",
        };
        foreach (var (key, value) in Teams.Settings()) settings[key] = value;
        foreach (var (key, value) in storage) settings[key] = value;
        return settings;
    }

    /// <summary>Bot state in a SQLite file of this test (the same file for every restart), Hangfire in memory.</summary>
    public Dictionary<string, string> Sqlite() => new()
    {
        ["Storage__Provider"] = "Sqlite",
        ["Storage__ConnectionString"] = $"Data Source={Path.Combine(Directory, "state.db")}",
    };

    /// <summary>Bot state and Hangfire in a fresh PostgreSQL database of this test.</summary>
    public async Task<Dictionary<string, string>> PostgresAsync() => new()
    {
        ["Storage__Provider"] = "Postgres",
        ["Storage__ConnectionString"] = await CreateDatabaseAsync("e2e_state"),
    };

    /// <summary>Starts one more host process on <paramref name="settings"/>; it is killed at the end of the test at the latest.</summary>
    public async Task<HostProcess> StartHostAsync(string name, IReadOnlyDictionary<string, string> settings)
    {
        var n = Interlocked.Increment(ref _started);
        var host = await HostProcess.StartAsync($"{name}#{n}", settings, Path.Combine(Directory, $"{name}-{n}"));
        lock (_hosts) _hosts.Add(host);
        return host;
    }

    /// <summary>All output of every host started so far.</summary>
    public IEnumerable<string> AllHostOutput()
    {
        lock (_hosts) return [.. _hosts.SelectMany(h => h.Output)];
    }

    public string Diagnostics()
    {
        lock (_hosts) return string.Join('\n', _hosts.Select(h => h.Tail(40)));
    }

    // ---- the world afterwards ----

    /// <summary>The groups tagged as <paramref name="target"/>'s dedicated group (<c>prequelbot-&lt;target&gt;</c>); there must be one.</summary>
    public async Task<IReadOnlyList<SecurityGroup>> DedicatedGroupsAsync(string target) =>
        (await Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest
        {
            Filters = [new Filter("vpc-id", [Aws.VpcId]), new Filter("tag:managed-by", ["prequelbot"]), new Filter("tag:prequelbot:target", [target])],
        })).SecurityGroups ?? [];

    /// <summary>The TCP 5432 ranges of <paramref name="groupId"/>.</summary>
    public async Task<IReadOnlyList<IpRange>> SecurityGroupRangesAsync(string groupId) =>
        [.. ((await Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [groupId] })).SecurityGroups.Single().IpPermissions ?? [])
            .Where(p => p.IpProtocol == "tcp" && p.FromPort <= 5432 && p.ToPort >= 5432).SelectMany(p => p.Ipv4Ranges ?? [])];

    public async Task<IReadOnlyList<NetworkAclEntry>> AclEntriesAsync() =>
        (await Moto.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { NetworkAclIds = [Aws.CustomAclId!] })).NetworkAcls.Single().Entries ?? [];

    public async Task<bool> PubliclyAccessibleAsync() =>
        (await Moto.Rds.DescribeDBInstanceAsync(Aws.InstanceId, CancellationToken.None))!.PubliclyAccessible;

    /// <summary>
    /// Every RDS instance in moto that is a read replica of the seeded instance, read page by page from an unfiltered
    /// DescribeDBInstances (other tests share the moto server, so the list holds their instances too).
    /// </summary>
    public async Task<IReadOnlyList<RdsDbInstance>> ReplicasOfSourceAsync()
    {
        var replicas = new List<RdsDbInstance>();
        string? marker = null;
        do
        {
            List<KeyValuePair<string, string>> parameters = [new("MaxRecords", "100")];
            if (marker is not null) parameters.Add(new("Marker", marker));
            var result = await Moto.RdsQuery.InvokeActionAsync("DescribeDBInstances", parameters, CancellationToken.None);
            replicas.AddRange(RdsXml.ParseDescribeDBInstances(result).Where(i => i.ReadReplicaSourceIdentifier == Aws.InstanceId));
            marker = result.Elements().FirstOrDefault(e => e.Name.LocalName == "Marker")?.Value is { Length: > 0 } next ? next : null;
        }
        while (marker is not null);
        return replicas;
    }

    /// <summary>The seeded (source) instance as RDS describes it now.</summary>
    public async Task<RdsDbInstance> SourceInstanceAsync() =>
        (await Moto.Rds.DescribeDBInstanceAsync(Aws.InstanceId, CancellationToken.None))!;

    /// <summary>The VPC's groups and rules, the seeded ACL's entries, the instance's group list and public flag, its read replicas.</summary>
    public async Task<string> AwsSnapshotAsync()
    {
        var groups = (await Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("vpc-id", [Aws.VpcId])] })).SecurityGroups ?? [];
        var lines = groups.OrderBy(g => g.GroupId, StringComparer.Ordinal).Select(g => $"group {g.GroupId} {g.GroupName}: " + string.Join(",",
            (g.IpPermissions ?? []).SelectMany(p => (p.Ipv4Ranges ?? []).Select(r => $"in {p.IpProtocol}:{p.FromPort}-{p.ToPort}:{r.CidrIp}:{r.Description}"))
            .Concat((g.IpPermissionsEgress ?? []).SelectMany(p => (p.Ipv4Ranges ?? []).Select(r => $"out {p.IpProtocol}:{p.FromPort}-{p.ToPort}:{r.CidrIp}")))
            .Order(StringComparer.Ordinal))).ToList();
        lines.AddRange((await AclEntriesAsync()).Select(e => $"acl {e.RuleNumber} {(e.Egress == true ? "out" : "in")} {e.RuleAction} {e.Protocol} {e.CidrBlock} {e.PortRange?.From}-{e.PortRange?.To}").Order(StringComparer.Ordinal));
        var instance = await SourceInstanceAsync();
        lines.Add($"instance groups {string.Join(",", instance.SecurityGroupIds)} public {instance.PubliclyAccessible}");
        lines.AddRange((await ReplicasOfSourceAsync()).Select(r => $"replica {r.Identifier} {r.Status}").Order(StringComparer.Ordinal));
        return string.Join('\n', lines);
    }

    public async Task<long> RolesNamedAsync(string name)
    {
        await using var admin = NpgsqlDataSource.Create(SourceConnectionString);
        await using var command = admin.CreateCommand("SELECT count(*) FROM pg_roles WHERE rolname = $1");
        command.Parameters.AddWithValue(name);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The attributes of the new role on <paramref name="source"/> (default <see cref="SourceConnectionString"/>), and how many roles have its name.</summary>
    public async Task<(bool Super, bool CreateDb, bool CreateRole, bool CanLogin, int Count)> RoleAsync(string? source = null)
    {
        await using var admin = NpgsqlDataSource.Create(source ?? SourceConnectionString);
        await using var command = admin.CreateCommand("SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, count(*) OVER () FROM pg_roles WHERE rolname = $1");
        command.Parameters.AddWithValue(User);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"role {User} does not exist");
        return (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), (int)reader.GetInt64(4));
    }

    /// <summary>Logs in as the new role with <paramref name="password"/> (on <paramref name="source"/>, default the world's) and returns the rows of <c>public.orders</c>.</summary>
    public async Task<long> CountOrdersAsAsync(string password, string? source = null)
    {
        await using var connection = new NpgsqlConnection(ConnectionAs(password, source));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM public.orders", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Logs in as the new role with <paramref name="password"/>; returns the SQLSTATE of a refusal (28P01: wrong password), null when it logged in.</summary>
    public async Task<string?> LoginRefusalAsync(string password)
    {
        await using var connection = new NpgsqlConnection(ConnectionAs(password, null));
        try
        {
            await connection.OpenAsync();
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
    }

    /// <summary>
    /// Tries an INSERT as the reader and returns the SQLSTATE (null if it succeeded). By default it runs in the role's
    /// default transaction (read-only: 25006); <paramref name="afterLeavingReadOnly"/> first switches that default off,
    /// so only the missing privilege refuses it (42501).
    /// </summary>
    public async Task<string?> InsertAsAsync(string password, string? source = null, bool afterLeavingReadOnly = false)
    {
        await using var connection = new NpgsqlConnection(ConnectionAs(password, source));
        await connection.OpenAsync();
        if (afterLeavingReadOnly)
        {
            await using var leave = new NpgsqlCommand("SET default_transaction_read_only = off", connection);
            await leave.ExecuteNonQueryAsync();
        }
        await using var command = new NpgsqlCommand("INSERT INTO public.orders VALUES (2, 'written by the reader')", connection);
        try
        {
            await command.ExecuteNonQueryAsync();
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
    }

    private string ConnectionAs(string password, string? source) =>
        new NpgsqlConnectionStringBuilder(source ?? SourceConnectionString) { Username = User, Password = password, Pooling = false }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        List<HostProcess> hosts;
        lock (_hosts) hosts = [.. _hosts];
        foreach (var host in hosts) host.Dispose();
        Slack?.Dispose();
        await SlackApi.DisposeAsync();
        if (Prequel is not null) await Prequel.DisposeAsync();
        if (Teams is not null) await Teams.DisposeAsync();
        Moto.Dispose();
        try
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);
            foreach (var database in _databases)
            {
                await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
                await drop.ExecuteNonQueryAsync();
            }

            await using var role = admin.CreateCommand($"DROP ROLE IF EXISTS \"{User}\"");
            await role.ExecuteNonQueryAsync();
        }
        catch (NpgsqlException)
        {
            // best effort: the throwaway cluster goes away with the test run
        }

        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
