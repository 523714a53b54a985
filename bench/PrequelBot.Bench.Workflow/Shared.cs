using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Bench.Workflow;

/// <summary>Command-line options: <c>--name value</c>.</summary>
internal sealed class Args(string[] args)
{
    public int Int(string name, int fallback) => Get(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public string? Get(string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    public bool Has(string name) => args.Contains(name);
}

internal static class Stats
{
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1))];

    public static string Summary(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0
            ? "no samples"
            : string.Create(CultureInfo.InvariantCulture,
                $"n {sorted.Count}  p50 {Percentile(sorted, 0.50):0.0} ms  p95 {Percentile(sorted, 0.95):0.0} ms  p99 {Percentile(sorted, 0.99):0.0} ms  max {sorted[^1]:0.0} ms");
    }

    public static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    public static void Say(string line) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{DateTime.UtcNow:HH:mm:ss}] {line}"));
}

/// <summary>
/// When each step's Apply started (Stopwatch timestamps: CLOCK_MONOTONIC on Linux, so comparable across processes of
/// one machine). The first Apply of a step is what a click waits for; later ones are re-checks.
/// </summary>
internal sealed class ApplyLog
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<(long At, string Node)>> _first = new();
    private readonly ConcurrentDictionary<string, int> _attempts = new();
    private long _applies;

    /// <summary>Called for every Apply (with the node that ran it).</summary>
    public Action<string, string, int, long>? OnApply { get; set; }

    /// <summary>Called for every Apply with the node that ran it as the last argument.</summary>
    public Action<string, string, int, long, string>? OnApplyOnNode { get; set; }

    public long Applies => Interlocked.Read(ref _applies);

    public void Record(string onboardingId, string step, int attempt, long at, string node)
    {
        Interlocked.Increment(ref _applies);
        _attempts.AddOrUpdate(Key(onboardingId, step), attempt, (_, n) => Math.Max(n, attempt));
        Slot(onboardingId, step).TrySetResult((at, node));
        OnApply?.Invoke(onboardingId, step, attempt, at);
        OnApplyOnNode?.Invoke(onboardingId, step, attempt, at, node);
    }

    public Task<(long At, string Node)> FirstApplyAsync(string onboardingId, string step) => Slot(onboardingId, step).Task;

    public int Attempts(string onboardingId, string step) => _attempts.GetValueOrDefault(Key(onboardingId, step));

    public int CountSteps(string step, int minAttempt) => _attempts.Count(p => p.Key.EndsWith("/" + step, StringComparison.Ordinal) && p.Value >= minAttempt);

    private TaskCompletionSource<(long, string)> Slot(string id, string step) =>
        _first.GetOrAdd(Key(id, step), _ => new TaskCompletionSource<(long, string)>(TaskCreationOptions.RunContinuationsAsynchronously));

    private static string Key(string id, string step) => id + "/" + step;
}

/// <summary>Wraps a step handler (the in-memory ones of PrequelBot.Testing) and notes when Apply starts.</summary>
internal sealed class TimedHandler(IStepHandler inner, ApplyLog log, string node) : IStepHandler
{
    public string StepName => inner.StepName;

    public Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken) => inner.PlanAsync(context, cancellationToken);

    public Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        log.Record(context.OnboardingId, context.StepName, context.Attempt, Stopwatch.GetTimestamp(), node);
        return inner.ApplyAsync(context, cancellationToken);
    }

    public Task<StepResult> VerifyAsync(StepContext context, CancellationToken cancellationToken) => inner.VerifyAsync(context, cancellationToken);
}

/// <summary>The real host in-process on Kestrel at 127.0.0.1 (WebApplicationFactory.UseKestrel), as the SlackAck bench does.</summary>
internal static class InProcessHost
{
    public static (WebApplicationFactory<Program> Factory, Uri Address) Start(IDictionary<string, string?> settings, IEnumerable<IStepHandler> handlers, Action<IServiceCollection>? services = null)
    {
        // A console app has no test manifest: point WebApplicationFactory at this output folder (settings file included).
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_PREQUELBOT_HOST", AppContext.BaseDirectory);
        var list = handlers.ToList();
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Production");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
            builder.ConfigureTestServices(s =>
            {
                s.ReplaceStepHandlers(list);
                services?.Invoke(s);
            });
        });
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        if (!IPAddress.IsLoopback(IPAddress.Parse(address.Host))) throw new InvalidOperationException($"Refusing a non-loopback address {address}.");
        return (factory, address);
    }

    /// <summary>What every bench host shares: one approver, Slack pointed at the fake, quiet logs.</summary>
    public static Dictionary<string, string?> BaseSettings(BenchSlack slack) => new()
    {
        ["Slack:SigningSecret"] = BenchSlack.Secret,
        ["Slack:BotToken"] = "xoxb-bench",
        ["Slack:ApiBaseUrl"] = slack.BaseUrl,
        ["Approvals:Approvers:0"] = BenchSlack.Approver,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public static void AddDatabases(IDictionary<string, string?> settings, IEnumerable<string> aliases)
    {
        foreach (var alias in aliases)
        {
            settings[$"Databases:{alias}:InstanceIdentifier"] = alias + "-prod";
            settings[$"Databases:{alias}:AdminConnectionString"] = "Host=db.internal;Username=admin;Password=x";
        }
    }
}

/// <summary>A pending approval prompt the bot posted: enough to build Slack's block_actions payload.</summary>
internal sealed record Prompt(string Ts, string Channel, string? ThreadTs, string OnboardingId, string Step, string Database, JsonArray Blocks);

/// <summary>
/// A small fake of the Slack Web API on 127.0.0.1 (chat.postMessage, chat.update, chat.postEphemeral and response_url
/// hooks) that keeps the messages by ts, so the bench can find the prompts and click their buttons as Slack would.
/// </summary>
internal sealed partial class BenchSlack : IAsyncDisposable
{
    public const string Secret = "bench-signing-secret-0123456789abcdef";
    public const string Approver = "UAPPROVER";
    public const string Requester = "UREQUESTER";
    public const string Channel = "C0BENCH";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, (string Channel, string? ThreadTs, JsonArray? Blocks)> _messages = new();
    private ConcurrentQueue<string>? _changed;
    private int _calls;

    private BenchSlack(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public string HooksUrl { get; private set; } = "";

    public int Calls => _calls;

    public static async Task<BenchSlack> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new BenchSlack(app);
        app.MapPost("/api/{method}", fake.HandleAsync);
        app.MapPost("/hooks/{**path}", () => "ok");
        await app.StartAsync();
        var root = app.Urls.First().TrimEnd('/');
        fake.BaseUrl = root + "/api/";
        fake.HooksUrl = root + "/hooks/";
        return fake;
    }

    private async Task HandleAsync(HttpContext context, string method)
    {
        var n = Interlocked.Increment(ref _calls);
        var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject ?? [];
        var channel = body["channel"]?.GetValue<string>() ?? Channel;
        var ts = method == "chat.update" ? body["ts"]?.GetValue<string>() ?? "" : string.Create(CultureInfo.InvariantCulture, $"{1700000000 + n}.{n % 1_000_000:D6}");
        if (method is "chat.postMessage" or "chat.update")
        {
            var thread = method == "chat.update" && _messages.TryGetValue(ts, out var old) ? old.ThreadTs : body["thread_ts"]?.GetValue<string>();
            _messages[ts] = (channel, thread, body["blocks"]?.DeepClone() as JsonArray);
            Volatile.Read(ref _changed)?.Enqueue(ts);
        }
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.WriteAsync(new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts, ["message_ts"] = ts }.ToJsonString());
    }

    [GeneratedRegex(@"for `(?<step>[a-z-]+)` of (?<id>\S+) \(`(?<db>[^`]+)`\)")]
    private static partial Regex PromptHeading();

    /// <summary>Drops the kept messages (so a memory figure of this process counts the host, not this fake).</summary>
    public void Forget() => _messages.Clear();

    /// <summary>Prompts that still show buttons.</summary>
    public List<Prompt> PendingPrompts()
    {
        var found = new List<Prompt>();
        foreach (var (ts, m) in _messages)
        {
            if (AsPrompt(ts, m) is { } prompt) found.Add(prompt);
        }
        return found;
    }

    /// <summary>
    /// From now on, note which messages are posted or updated, for <see cref="TakeChangedPrompts"/> (off by default, so
    /// the other modes keep nothing more than the messages).
    /// </summary>
    public void TrackChanges() => Interlocked.CompareExchange(ref _changed, new ConcurrentQueue<string>(), null);

    /// <summary>
    /// Prompts that still show buttons among the messages posted or updated since the last call (after
    /// <see cref="TrackChanges"/>): a poll that costs what changed, not every message kept.
    /// </summary>
    public List<Prompt> TakeChangedPrompts()
    {
        var changed = new HashSet<string>();
        if (Volatile.Read(ref _changed) is { } queue)
        {
            while (queue.TryDequeue(out var ts)) changed.Add(ts);
        }
        var found = new List<Prompt>();
        foreach (var ts in changed)
        {
            if (_messages.TryGetValue(ts, out var m) && AsPrompt(ts, m) is { } prompt) found.Add(prompt);
        }
        return found;
    }

    private static Prompt? AsPrompt(string ts, (string Channel, string? ThreadTs, JsonArray? Blocks) m)
    {
        if (m.Blocks is not { } blocks || !blocks.OfType<JsonObject>().Any(b => b["type"]?.GetValue<string>() == "actions")) return null;
        var heading = blocks[0]?["text"]?["text"]?.GetValue<string>() ?? "";
        return PromptHeading().Match(heading) is { Success: true } match
            ? new Prompt(ts, m.Channel, m.ThreadTs, match.Groups["id"].Value, match.Groups["step"].Value, match.Groups["db"].Value, blocks)
            : null;
    }

    /// <summary>A signed <c>/prequel</c> slash command; returns the HTTP status.</summary>
    public async Task<HttpStatusCode> CommandAsync(HttpClient http, string text, CancellationToken cancellationToken = default)
    {
        var body = string.Join('&',
            "team_id=T0BENCH", "channel_id=" + Channel, "user_id=" + Requester, "command=%2Fprequel",
            "text=" + WebUtility.UrlEncode(text), "api_app_id=A0BENCH", "response_url=" + WebUtility.UrlEncode(HooksUrl + "commands/" + Guid.NewGuid().ToString("N")));
        using var response = await SendAsync(http, "/slack/commands", body, cancellationToken);
        return response.StatusCode;
    }

    /// <summary>Clicks <c>Approve</c> on a prompt: a signed block_actions payload built from the posted blocks, as Slack builds it.</summary>
    public async Task<HttpStatusCode> ApproveAsync(HttpClient http, Prompt prompt, CancellationToken cancellationToken = default)
    {
        var actions = prompt.Blocks.OfType<JsonObject>().Single(b => b["type"]?.GetValue<string>() == "actions");
        var button = actions["elements"]!.AsArray().OfType<JsonObject>().Single(e => e["text"]?["text"]?.GetValue<string>() == "Approve");
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = Approver, ["username"] = "approver", ["team_id"] = "T0BENCH" },
            ["api_app_id"] = "A0BENCH",
            ["team"] = new JsonObject { ["id"] = "T0BENCH", ["domain"] = "bench" },
            ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = prompt.Ts, ["channel_id"] = prompt.Channel, ["is_ephemeral"] = false, ["thread_ts"] = prompt.ThreadTs },
            ["channel"] = new JsonObject { ["id"] = prompt.Channel, ["name"] = "bench" },
            ["message"] = new JsonObject { ["type"] = "message", ["ts"] = prompt.Ts, ["thread_ts"] = prompt.ThreadTs, ["blocks"] = prompt.Blocks.DeepClone() },
            ["response_url"] = HooksUrl + "actions/" + Guid.NewGuid().ToString("N"),
            ["trigger_id"] = "1.2.bench",
            ["actions"] = new JsonArray(new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = button["action_id"]!.DeepClone(),
                ["block_id"] = actions["block_id"]!.DeepClone(),
                ["value"] = button["value"]!.DeepClone(),
                ["text"] = button["text"]!.DeepClone(),
                ["action_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture).Insert(10, "."),
            }),
        };
        using var response = await SendAsync(http, "/slack/interactions", "payload=" + WebUtility.UrlEncode(payload.ToJsonString()), cancellationToken);
        return response.StatusCode;
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string body, CancellationToken cancellationToken)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}"));
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded") };
        request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
        request.Headers.Add("X-Slack-Signature", "v0=" + Convert.ToHexStringLower(mac));
        return SendAndDisposeAsync(http, request, cancellationToken);

        static async Task<HttpResponseMessage> SendAndDisposeAsync(HttpClient http, HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using (request) return await http.SendAsync(request, cancellationToken);
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

/// <summary>Onboarding drivers several modes share: warm-up onboardings and the states of a PostgreSQL run.</summary>
internal static class BenchOnboarding
{
    public static IEnumerable<string> WarmupAliases(int warmups) => Enumerable.Range(1, warmups).Select(i => $"warm{i}");

    /// <summary>Drives one onboarding of <paramref name="alias"/> to completed, clicking each prompt (through the clients in turn).</summary>
    public static async Task WarmUpAsync(BenchSlack slack, HttpClient[] clients, string alias, Func<Task<Dictionary<string, string>>> states)
    {
        var turn = 0;
        await slack.CommandAsync(clients[turn++ % clients.Length], "connect " + alias);
        var clicked = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if ((await states()).GetValueOrDefault(alias) == "completed") { Stats.Say($"warm-up onboarding of {alias} completed"); return; }
            foreach (var prompt in slack.PendingPrompts().Where(p => p.Database == alias && clicked.Add(p.Ts)))
                await slack.ApproveAsync(clients[turn++ % clients.Length], prompt);
            await Task.Delay(20);
        }
        throw new TimeoutException($"the warm-up onboarding of {alias} did not complete within 120 s");
    }

    public static async Task<Dictionary<string, string>> PostgresStatesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT database_key, state FROM onboardings", connection);
        var states = new Dictionary<string, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) states[reader.GetString(0)] = reader.GetString(1);
        return states;
    }
}

/// <summary>A fresh PostgreSQL database per run on the server named by <c>PREQUELBOT_TEST_POSTGRES</c> (loopback only).</summary>
internal static class BenchPostgres
{
    public static string Admin()
    {
        var value = Environment.GetEnvironmentVariable("PREQUELBOT_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(value)) throw new InvalidOperationException("Set PREQUELBOT_TEST_POSTGRES to a PostgreSQL on 127.0.0.1 (see bench/README.md).");
        var host = new NpgsqlConnectionStringBuilder(value).Host ?? "";
        if (!(host is "localhost" || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip)))) throw new InvalidOperationException("PREQUELBOT_TEST_POSTGRES must point at a loopback address.");
        return value;
    }

    public static async Task<string> CreateAsync(string database)
    {
        await using var admin = NpgsqlDataSource.Create(Admin());
        await using (var create = admin.CreateCommand($"CREATE DATABASE \"{database}\"")) await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(Admin()) { Database = database }.ConnectionString;
    }

    public static async Task DropAsync(string database)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = NpgsqlDataSource.Create(Admin());
        await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>Process ids of the server backends connected to <paramref name="database"/>.</summary>
    public static async Task<List<int>> BackendsAsync(string database)
    {
        await using var admin = NpgsqlDataSource.Create(Admin());
        await using var query = admin.CreateCommand("SELECT pid FROM pg_stat_activity WHERE datname = $1");
        query.Parameters.AddWithValue(database);
        var pids = new List<int>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
        return pids;
    }
}
