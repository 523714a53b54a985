using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PrequelBot.Testing;

namespace PrequelBot.Bench.Workflow;

internal sealed record ClickSample(double ToApplyMs, double AckMs, double AckToApplyMs, string Node);

/// <summary>
/// Benchmark 1: approval click → step job running. A signed block_actions POST for a pending prompt is the click; the
/// moment the step's Apply starts (noted by a wrapper around the in-memory step handlers) is "running".
/// SQLite + Hangfire.InMemory: one host in this process. PostgreSQL: two host processes (nodes A and B) on one fresh
/// database; the clicks go to A, and by default A runs no approvals server, so every approved step crosses processes.
/// </summary>
internal static class ClickBench
{
    public static async Task<int> RunAsync(Args args)
    {
        var postgres = string.Equals(args.Get("--storage") ?? "sqlite", "postgres", StringComparison.OrdinalIgnoreCase);
        var samples = args.Int("--samples", 200);
        var onboardings = args.Int("--onboardings", 50);
        var limit = TimeSpan.FromSeconds(args.Int("--max-seconds", 600));
        var clock = Stopwatch.StartNew();
        await using var slack = await BenchSlack.StartAsync();
        var settings = InProcessHost.BaseSettings(slack);
        var aliases = Enumerable.Range(1, onboardings).Select(i => $"db{i:D3}").ToList();
        InProcessHost.AddDatabases(settings, aliases);
        var log = new ApplyLog();
        List<ClickSample> results;
        int failures;
        string setup;

        if (!postgres)
        {
            var directory = Path.Combine(Path.GetTempPath(), "prequelbot-bench-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            settings["Storage:Provider"] = "Sqlite";
            settings["Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "state.db")}";
            var world = new FakeInfrastructure();
            var (factory, address) = InProcessHost.Start(settings, world.Handlers().Select(h => new TimedHandler(h, log, "in-process")));
            setup = $"SQLite + Hangfire.InMemory, one host in-process at {address}";
            try
            {
                using var http = new HttpClient { BaseAddress = address };
                (results, failures) = await DriveAsync(slack, http, aliases, log, samples, limit - clock.Elapsed);
            }
            finally
            {
                await factory.DisposeAsync();
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
            }
        }
        else
        {
            var approvalsOnA = args.Has("--approvals-on-a");
            var database = "bench_click_" + Guid.NewGuid().ToString("N")[..8];
            settings["Storage:Provider"] = "Postgres";
            settings["Storage:ConnectionString"] = await BenchPostgres.CreateAsync(database);
            await SharedEffects.CreateTableAsync(settings["Storage:ConnectionString"]!);
            var file = Path.Combine(Path.GetTempPath(), database + ".json");
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(settings));
            NodeProcess? a = null, b = null;
            try
            {
                b = await NodeProcess.StartAsync("B", file, noApprovals: false, log);
                a = await NodeProcess.StartAsync("A", file, noApprovals: !approvalsOnA, log);
                setup = $"PostgreSQL, two host processes on database {database}: clicks go to node A (pid {a.Id}, Hangfire servers: {a.Servers}), " +
                        $"node B (pid {b.Id}, Hangfire servers: {b.Servers})";
                using var http = new HttpClient { BaseAddress = a.Address };
                (results, failures) = await DriveAsync(slack, http, aliases, log, samples, limit - clock.Elapsed);
            }
            finally
            {
                if (a is not null) await a.DisposeAsync();
                if (b is not null) await b.DisposeAsync();
                await BenchPostgres.DropAsync(database);
                File.Delete(file);
            }
        }

        var target = postgres ? 1000.0 : 250.0;
        var sorted = results.Select(r => r.ToApplyMs).Order().ToList();
        var p95 = Stats.Percentile(sorted, 0.95);
        Console.WriteLine();
        Console.WriteLine($"PrequelBot click → step running: {setup}");
        Console.WriteLine($"load average at end: {Stats.LoadAverage()}; Slack Web API calls: {slack.Calls}; failures (non-200 click or no Apply within 60 s): {failures}");
        Console.WriteLine("| what | n | p50 | p95 | p99 | max |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Row("click → Apply starts", results.Select(r => r.ToApplyMs));
        Row("click HTTP answer (ack)", results.Select(r => r.AckMs));
        Row("ack → Apply starts (< 0: before the ack)", results.Select(r => r.AckToApplyMs));
        foreach (var node in results.GroupBy(r => r.Node).OrderBy(g => g.Key)) Row($"click → Apply, run by node {node.Key}", node.Select(r => r.ToApplyMs));
        var ok = failures == 0 && results.Count >= samples && p95 <= target;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"target p95 ≤ {target:0} ms: {(p95 <= target ? "met" : "MISSED")} (p95 {p95:0.0} ms); samples {results.Count}/{samples}"));
        return ok ? 0 : 1;

        static void Row(string what, IEnumerable<double> values)
        {
            var s = values.Order().ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {what} | {s.Count} | {Stats.Percentile(s, 0.5):0.0} ms | {Stats.Percentile(s, 0.95):0.0} ms | {Stats.Percentile(s, 0.99):0.0} ms | {(s.Count == 0 ? double.NaN : s[^1]):0.0} ms |"));
        }
    }

    /// <summary>Starts one onboarding per alias, then clicks Approve on pending prompts one at a time and times each.</summary>
    private static async Task<(List<ClickSample>, int)> DriveAsync(BenchSlack slack, HttpClient http, List<string> aliases, ApplyLog log, int samples, TimeSpan limit)
    {
        using var stop = new CancellationTokenSource(limit);
        var failures = 0;
        foreach (var alias in aliases)
        {
            if (await slack.CommandAsync(http, $"connect {alias}", stop.Token) != HttpStatusCode.OK) failures++;
        }
        Stats.Say($"{aliases.Count} onboardings started; clicking");

        var results = new List<ClickSample>();
        var clicked = new HashSet<string>();
        while (results.Count < samples && !stop.IsCancellationRequested)
        {
            var prompt = slack.PendingPrompts().Where(p => !clicked.Contains(p.OnboardingId + "/" + p.Step)).OrderBy(p => p.Ts, StringComparer.Ordinal).FirstOrDefault();
            if (prompt is null)
            {
                await Task.Delay(10, CancellationToken.None);
                continue;
            }
            clicked.Add(prompt.OnboardingId + "/" + prompt.Step);
            var sent = Stopwatch.GetTimestamp();
            var status = await slack.ApproveAsync(http, prompt, stop.Token);
            var acked = Stopwatch.GetTimestamp();
            if (status != HttpStatusCode.OK) { failures++; continue; }
            try
            {
                var (at, node) = await log.FirstApplyAsync(prompt.OnboardingId, prompt.Step).WaitAsync(TimeSpan.FromSeconds(60), stop.Token);
                results.Add(new ClickSample(Stats.Ms(sent, at), Stats.Ms(sent, acked), Stats.Ms(acked, at), node));
                if (results.Count % 50 == 0) Stats.Say($"{results.Count} clicks timed");
            }
            catch (TimeoutException)
            {
                failures++;
            }
        }
        if (results.Count < samples) Stats.Say($"Stopped by the time limit after {results.Count} clicks.");
        return (results, failures);
    }
}

/// <summary>
/// One bot node as its own process: this program in <c>node</c> mode (the real host on Kestrel with the timed
/// in-memory step handlers). It prints <c>LISTENING url</c>, <c>SERVERS …</c> and one <c>APPLY id step attempt timestamp</c>
/// line per Apply, and stops when its standard input closes.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _servers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _tail = new();

    private NodeProcess(Process process) => _process = process;

    public Uri Address { get; private set; } = null!;

    public string Servers { get; private set; } = "";

    public int Id => _process.Id;

    /// <summary>CPU time the node process has used so far.</summary>
    public TimeSpan ProcessorTime => _process.HasExited ? TimeSpan.Zero : _process.TotalProcessorTime;

    public static async Task<NodeProcess> StartAsync(string name, string settingsFile, bool noApprovals, ApplyLog log, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in new[] { typeof(NodeProcess).Assembly.Location, "node", "--settings", settingsFile, "--name", name }) start.ArgumentList.Add(arg);
        if (noApprovals) start.ArgumentList.Add("--no-approvals");
        foreach (var arg in extra) start.ArgumentList.Add(arg);
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        // Loopback only: with no Aws:Region the SDK's region chain would ask the EC2 instance metadata service.
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        var node = new NodeProcess(new Process { StartInfo = start });
        node._process.OutputDataReceived += (_, e) => node.OnLine(e.Data, name, log);
        node._process.ErrorDataReceived += (_, e) => { if (e.Data is not null) node.Keep(e.Data); };
        node._process.Start();
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        try
        {
            node.Address = await node._listening.Task.WaitAsync(TimeSpan.FromSeconds(120));
            node.Servers = await node._servers.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            Console.Error.WriteLine($"node {name} did not start:\n" + string.Join('\n', node._tail));
            await node.DisposeAsync();
            throw;
        }
        Stats.Say($"node {name} (pid {node.Id}) at {node.Address}, Hangfire servers: {node.Servers}");
        return node;
    }

    private void OnLine(string? line, string name, ApplyLog log)
    {
        if (line is null) return;
        var parts = line.Split(' ');
        switch (parts[0])
        {
            case "APPLY" when parts.Length == 5:
                log.Record(parts[1], parts[2], int.Parse(parts[3], CultureInfo.InvariantCulture), long.Parse(parts[4], CultureInfo.InvariantCulture), name);
                break;
            case "LISTENING":
                _listening.TrySetResult(new Uri(parts[1]));
                break;
            case "SERVERS":
                _servers.TrySetResult(string.Join(' ', parts.Skip(1)));
                break;
            default:
                Keep(line);
                break;
        }
    }

    private void Keep(string line)
    {
        _tail.Enqueue(line);
        while (_tail.Count > 400) _tail.TryDequeue(out _);
    }

    /// <summary>The node's last output lines (its log), oldest first.</summary>
    public IReadOnlyList<string> Tail => [.. _tail];

    /// <summary>SIGKILL: no shutdown, no requeue; the node's leases and fetched jobs are simply left behind.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public async ValueTask DisposeAsync()
    {
        if (_process.HasExited) { _process.Dispose(); return; }
        try { _process.StandardInput.Close(); } catch (IOException) { }
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try { await _process.WaitForExitAsync(wait.Token); }
        catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
        _process.Dispose();
    }

    /// <summary>The <c>node</c> mode: runs one host until standard input closes.</summary>
    public static async Task<int> RunNodeAsync(Args args)
    {
        var name = args.Get("--name") ?? "?";
        var settings = JsonSerializer.Deserialize<Dictionary<string, string?>>(await File.ReadAllTextAsync(args.Get("--settings")!))!;
        var log = new ApplyLog();
        var output = TextWriter.Synchronized(Console.Out);
        log.OnApply = (id, step, attempt, at) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"APPLY {id} {step} {attempt} {at}"));
        var world = new FakeInfrastructure();
        if (args.Get("--slow-step") is { } slowStep) world.ApplyDurations[slowStep] = TimeSpan.FromMilliseconds(args.Int("--slow-ms", 4000));
        var noApprovals = args.Has("--no-approvals");
        // Both node processes share one fake world through the run's PostgreSQL database (see SharedEffects).
        var shared = settings.GetValueOrDefault("Storage:Provider") == "Postgres" ? new SharedEffects(settings["Storage:ConnectionString"]!) : null;
        var handlers = world.Handlers().Select(h => shared is null ? h : shared.Wrap(h, world)).Select(h => new TimedHandler(h, log, name));
        var (factory, address) = InProcessHost.Start(settings, handlers, services =>
        {
            if (!noApprovals) return;
            // A web-only node for the cross-process measurement: drop the first Hangfire server (the approvals one,
            // registered first by AddPrequelStorage). The SERVERS line shows what is left.
            var hangfire = services.Where(d => d.ServiceType == typeof(IHostedService)
                                               && (d.ImplementationFactory?.Method.DeclaringType?.Assembly.GetName().Name?.StartsWith("Hangfire", StringComparison.Ordinal) ?? false)).ToList();
            if (hangfire.Count != 3) throw new InvalidOperationException($"Expected three Hangfire servers (approvals, rechecks, work), found {hangfire.Count}.");
            services.Remove(hangfire[0]);
        });
        output.WriteLine($"LISTENING {address}");
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        List<string> mine = [];
        while (DateTime.UtcNow < deadline)
        {
            mine = [.. JobStorage.Current.GetMonitoringApi().Servers().Where(s => s.Name.Contains(":" + pid + ":", StringComparison.Ordinal))
                .Select(s => $"{s.Name.Split(':')[2]}(queues {string.Join(',', s.Queues)}, {s.WorkersCount} workers)")];
            if (mine.Count >= (noApprovals ? 2 : 3)) break;
            await Task.Delay(200);
        }
        output.WriteLine("SERVERS " + string.Join("; ", mine));
        await Console.In.ReadToEndAsync();
        await factory.DisposeAsync();
        return 0;
    }
}
