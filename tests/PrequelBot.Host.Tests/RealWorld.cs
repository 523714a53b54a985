using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Amazon.EC2.Model;
using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Aws.Tests.Steps;
using PrequelBot.Prequel.Tests;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Tests;

/// <summary>
/// The source database of an onboarding on the test run's PostgreSQL: a fresh database owned by a CREATEROLE (not
/// superuser) admin with its own password, schemas <c>public</c> and <c>sales</c> with tables and rows.
/// Dropped, with the admin and reader roles, on dispose.
/// </summary>
public sealed class SourceDatabase : IAsyncDisposable
{
    public static readonly string[] Tables = ["public.customers", "public.orders", "sales.invoices"];

    private SourceDatabase(string name, string admin, string adminPassword, string reader)
    {
        Name = name;
        AdminRole = admin;
        AdminPassword = adminPassword;
        ReaderRole = reader;
        AdminConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString)
        {
            Database = name, Username = admin, Password = adminPassword, Pooling = false,
        }.ConnectionString;
    }

    public string Name { get; }
    public string AdminRole { get; }
    public string AdminPassword { get; }
    public string AdminConnectionString { get; }

    /// <summary>The read-only user the onboarding creates (roles are cluster-wide: unique per test).</summary>
    public string ReaderRole { get; }

    public static async Task<SourceDatabase> CreateAsync()
    {
        var db = new SourceDatabase(TestEnvironment.UniqueName("src"), TestEnvironment.UniqueName("admin"),
            "AdminPw" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), TestEnvironment.UniqueName("reader"));
        await SuperuserAsync("postgres", $"CREATE ROLE \"{db.AdminRole}\" LOGIN CREATEROLE PASSWORD '{db.AdminPassword}'");
        await SuperuserAsync("postgres", $"CREATE DATABASE \"{db.Name}\" OWNER \"{db.AdminRole}\"");
        await using var admin = new NpgsqlConnection(db.AdminConnectionString);
        await admin.OpenAsync();
        await using var seed = new NpgsqlCommand("""
            CREATE TABLE public.customers (id int PRIMARY KEY, name text);
            CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int);
            CREATE SCHEMA sales;
            CREATE TABLE sales.invoices (id int PRIMARY KEY, total numeric);
            INSERT INTO public.customers VALUES (1, 'Ada'), (2, 'Grace');
            INSERT INTO public.orders VALUES (10, 1);
            INSERT INTO sales.invoices VALUES (100, 42.5);
            """, admin);
        await seed.ExecuteNonQueryAsync();
        return db;
    }

    /// <summary>Connection string of <paramref name="user"/> with <paramref name="password"/> to this database.</summary>
    public string ConnectionStringFor(string user, string password) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Username = user, Password = password }.ConnectionString;

    /// <summary>Runs <paramref name="sql"/> as the cluster's superuser in <paramref name="database"/> and returns the first column of the first row.</summary>
    public static async Task<object?> SuperuserAsync(string database, string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = database, Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await SuperuserAsync("postgres", $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
        await SuperuserAsync("postgres", $"DROP ROLE IF EXISTS \"{ReaderRole}\"");
        await SuperuserAsync("postgres", $"DROP ROLE IF EXISTS \"{AdminRole}\"");
    }
}

/// <summary>
/// Everything outside the bot for one whole onboarding with the real step adapters: the source database on the real
/// PostgreSQL, a VPC, subnets, DB subnet group (with an empty custom network ACL), security group and postgres DB
/// instance seeded in moto through the AWS APIs, and the fake Prequel API on 127.0.0.1 with a key of its own.
/// </summary>
public sealed class RealWorld : IAsyncDisposable
{
    public static readonly string[] StaticIps = ["35.192.85.117", "34.66.12.34"];

    private RealWorld(SourceDatabase source, MotoFixture moto, SeededDatabase instance, FakePrequelApi prequel, string apiKey)
    {
        Source = source;
        Moto = moto;
        Instance = instance;
        Prequel = prequel;
        ApiKey = apiKey;
    }

    public SourceDatabase Source { get; }
    public MotoFixture Moto { get; }
    public SeededDatabase Instance { get; }
    public FakePrequelApi Prequel { get; }
    public string ApiKey { get; }

    /// <summary>The command that onboards the whole source.</summary>
    public string ConnectCommand => $"connect mydb --schemas public,sales --user {Source.ReaderRole}";

    public static async Task<RealWorld> CreateAsync()
    {
        var source = await SourceDatabase.CreateAsync();
        MotoFixture? moto = null;
        try
        {
            moto = new MotoFixture();
            var instance = await new AwsStepsHarness(moto, StaticIps).SeedAsync(customAcl: []);
            var prequel = await FakePrequelApi.StartAsync();
            var apiKey = "sk_staging_test_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
            prequel.AcceptedKeys = [apiKey];
            return new RealWorld(source, moto, instance, prequel, apiKey);
        }
        catch
        {
            moto?.Dispose();
            await source.DisposeAsync();
            throw;
        }
    }

    /// <summary>Host settings that point the real adapters at this world (on top of <paramref name="storage"/>).</summary>
    public Dictionary<string, string?> Settings(Dictionary<string, string?> storage)
    {
        var settings = new Dictionary<string, string?>(storage)
        {
            ["Databases:mydb:InstanceIdentifier"] = Instance.InstanceId,
            ["Databases:mydb:AdminConnectionString"] = Source.AdminConnectionString,
            ["Prequel:BaseUrl"] = Prequel.BaseUrl.ToString().TrimEnd('/'),
            ["Prequel:ApiKey"] = ApiKey,
            ["Aws:ServiceUrl"] = Environment.GetEnvironmentVariable(TestEnvironment.AwsVariable)
                                 ?? throw new InvalidOperationException(MotoFixture.MissingServerMessage),
            ["Aws:Region"] = Environment.GetEnvironmentVariable("Aws__Region") is { Length: > 0 } region ? region : "us-east-1",
            // Real calls on a loaded machine take longer than the fakes: a short lease would have the reconciler re-run live steps.
            ["Workflow:StepLease"] = "00:02:00",
        };
        for (var i = 0; i < StaticIps.Length; i++) settings[$"Prequel:StaticIps:{i}"] = StaticIps[i];
        return settings;
    }

    /// <summary>Approves every prompt until the onboarding completes; fails with the card's text if it fails or stalls.</summary>
    public static Task ApproveUntilCompletedAsync(BotHost host, RecordingChatPlatform chat, string id) =>
        ApproveUntilAsync(host, chat, id, OnboardingState.Completed);

    /// <summary>Approves every prompt until the onboarding reaches <paramref name="state"/>; fails with the card's text if it stalls or fails first.</summary>
    public static async Task ApproveUntilAsync(BotHost host, RecordingChatPlatform chat, string id, OnboardingState state)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            var onboarding = (await host.LoadAsync(id)).Onboarding;
            if (onboarding.State == state) return;
            Assert.True(onboarding.State != OnboardingState.Failed, $"{id} failed:\n{CardText(chat)}");
            if (chat.PendingPrompt(id) is { } prompt) await host.DecideAsync(prompt.ApprovalId);
            await Task.Delay(100);
        }
        Assert.Fail($"{id} did not become {state} within 120 s:\n{CardText(chat)}");
    }

    private static string CardText(RecordingChatPlatform chat) => string.Join("\n---\n", chat.Cards.Select(c => c.ToText()));

    /// <summary>The inbound rules of the dedicated group <c>prequelbot-&lt;instance&gt;</c> (found by its tags; none yet = empty).</summary>
    public async Task<IReadOnlyList<IpPermission>> IngressAsync() =>
        (await DedicatedGroupsAsync()).SelectMany(g => g.IpPermissions ?? []).ToList();

    /// <summary>Every group tagged as the instance's dedicated group (there must never be two).</summary>
    public async Task<IReadOnlyList<SecurityGroup>> DedicatedGroupsAsync() =>
        (await Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest
        {
            Filters = [new Filter("vpc-id", [Instance.VpcId]), new Filter("tag:managed-by", ["prequelbot"]), new Filter("tag:prequelbot:target", [Instance.InstanceId])],
        })).SecurityGroups ?? [];

    /// <summary>The inbound rules of the instance's own (seeded, shared) group, which the bot must leave as it was.</summary>
    public async Task<IReadOnlyList<IpPermission>> SharedIngressAsync() =>
        (await Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [Instance.SecurityGroupId] })).SecurityGroups.Single().IpPermissions ?? [];

    public async Task<IReadOnlyList<NetworkAclEntry>> AclEntriesAsync() =>
        (await Moto.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { NetworkAclIds = [Instance.CustomAclId!] })).NetworkAcls.Single().Entries ?? [];

    public async ValueTask DisposeAsync()
    {
        await Prequel.DisposeAsync();
        Moto.Dispose();
        await Source.DisposeAsync();
    }
}

/// <summary>The chat port of the host: records every payload (each post and update, as JSON) before the recording platform keeps it.</summary>
public sealed class CapturingChatPlatform(RecordingChatPlatform inner) : IChatPlatform
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public ConcurrentQueue<string> Payloads { get; } = new();

    public string Platform => inner.Platform;

    private void Capture(string call, object view) => Payloads.Enqueue(call + " " + JsonSerializer.Serialize(view, view.GetType(), Json));

    public Task<ChatMessageRef> PostCardAsync(ConversationRef conversation, OnboardingCardView card, ChatPost post, CancellationToken cancellationToken)
    {
        Capture("post-card", card);
        return inner.PostCardAsync(conversation, card, post, cancellationToken);
    }

    public Task UpdateCardAsync(ChatMessageRef message, OnboardingCardView card, CancellationToken cancellationToken)
    {
        Capture("update-card", card);
        return inner.UpdateCardAsync(message, card, cancellationToken);
    }

    public Task<ChatMessageRef> PostPromptAsync(ConversationRef conversation, ChatMessageRef card, ApprovalPromptView prompt, ChatPost post, CancellationToken cancellationToken)
    {
        Capture("post-prompt", prompt);
        return inner.PostPromptAsync(conversation, card, prompt, post, cancellationToken);
    }

    public Task<ChatMessageRef> PostNoticeAsync(ConversationRef conversation, ChatNoticeView notice, ChatPost post, CancellationToken cancellationToken)
    {
        Capture("post-notice", notice);
        return inner.PostNoticeAsync(conversation, notice, post, cancellationToken);
    }

    public Task<ChatLookup> FindPostedAsync(ConversationRef conversation, ChatMessageRef? card, ChatPost post, CancellationToken cancellationToken) =>
        inner.FindPostedAsync(conversation, card, post, cancellationToken);

    public Task UpdatePromptAsync(ChatMessageRef message, ApprovalPromptView prompt, CancellationToken cancellationToken)
    {
        Capture("update-prompt", prompt);
        return inner.UpdatePromptAsync(message, prompt, cancellationToken);
    }
}

/// <summary>Keeps every log line of every category at every level: the rendered message, the structured values, scopes and exception text.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, Lines);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            lines.Enqueue($"scope {category}: {Describe(state)}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} | {Describe(state)} | {exception}");

        private static string Describe(object? state) => state is IEnumerable<KeyValuePair<string, object?>> values
            ? string.Join("; ", values.Select(v => $"{v.Key}={v.Value}"))
            : state?.ToString() ?? "";
    }
}
