using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace PrequelBot.Bench.Workflow;

/// <summary>
/// Benchmark 4: losing a node mid-step. Two full host processes (every Hangfire server) on one fresh PostgreSQL
/// database, production engine settings (lease, heartbeat, reconciler). One onboarding, each prompt clicked as soon as
/// it appears. The slow step (<c>--slow-step</c>, Apply lasting <c>--slow-ms</c>) is the one killed: when its first
/// Apply starts, the node running it gets SIGKILL after <c>--kill-after-ms</c>, and the clicks go on through the other
/// node. The same run without the kill is the baseline; both are printed with their phases.
/// </summary>
internal static class KillBench
{
    public static async Task<int> RunAsync(Args args)
    {
        var slowStep = args.Get("--slow-step") ?? "network-acl";
        var slowMs = args.Int("--slow-ms", 4000);
        var killAfterMs = args.Int("--kill-after-ms", 2000);
        var rounds = args.Int("--rounds", 1);
        // Warm-up onboardings run to completion on the same host(s) before the timed one: the timed run then measures a
        // node that has served before (JIT, first connections), not a freshly started process. 0 = cold, as before.
        var warmups = args.Int("--warmup", 1);
        var rows = new List<string>();
        var ok = true;
        for (var round = 1; round <= rounds; round++)
        {
            var sqlite = await OneSqliteRunAsync(slowStep, slowMs, warmups);
            var baseline = await OneRunAsync(kill: false, slowStep, slowMs, killAfterMs, warmups);
            var killed = await OneRunAsync(kill: true, slowStep, slowMs, killAfterMs, warmups);
            ok &= baseline.Completed && killed.Completed && killed.DuplicateApplies == 0;
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {round} | {sqlite / 1000:0.00} s | {baseline.TotalMs / 1000:0.00} s ({baseline.TotalMs / sqlite:0.00}×) | {killed.TotalMs / 1000:0.00} s | **{(killed.TotalMs - baseline.TotalMs) / 1000:+0.00;-0.00} s** | {killed.KillToTakeoverMs / 1000:0.00} s | {killed.DuplicateApplies} |"));
            Console.WriteLine();
            Console.WriteLine($"round {round} baseline phases:\n{baseline.Phases}");
            Console.WriteLine($"round {round} with kill, phases:\n{killed.Phases}");
        }
        Console.WriteLine();
        Console.WriteLine($"Losing a node mid-step: slow step {slowStep} ({slowMs} ms), kill {killAfterMs} ms into it, {warmups} warm-up onboarding(s) first; load average {Stats.LoadAverage()}");
        Console.WriteLine("| round | one SQLite node | two PostgreSQL nodes, no kill (× SQLite) | with kill | cost of the kill | kill → step taken over | steps other than the killed one applied twice |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        return ok ? 0 : 1;
    }

    /// <summary>The same onboarding on one SQLite + Hangfire.InMemory host in this process: the single-node reference.</summary>
    private static async Task<double> OneSqliteRunAsync(string slowStep, int slowMs, int warmups)
    {
        await using var slack = await BenchSlack.StartAsync();
        var settings = InProcessHost.BaseSettings(slack);
        InProcessHost.AddDatabases(settings, ["mydb", .. BenchOnboarding.WarmupAliases(warmups)]);
        var directory = Path.Combine(Path.GetTempPath(), "prequelbot-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, "state.db");
        settings["Storage:Provider"] = "Sqlite";
        settings["Storage:ConnectionString"] = $"Data Source={file}";
        var world = new PrequelBot.Testing.FakeInfrastructure();
        world.ApplyDurations[slowStep] = TimeSpan.FromMilliseconds(slowMs);
        var (factory, address) = InProcessHost.Start(settings, world.Handlers());
        try
        {
            using var http = new HttpClient { BaseAddress = address };
            foreach (var alias in BenchOnboarding.WarmupAliases(warmups)) await BenchOnboarding.WarmUpAsync(slack, [http], alias, () => SqliteStatesAsync(file));
            var origin = Stopwatch.GetTimestamp();
            await slack.CommandAsync(http, "connect mydb");
            var clicked = new HashSet<string>();
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (DateTime.UtcNow < deadline)
            {
                await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Mode=ReadOnly"))
                {
                    await connection.OpenAsync();
                    await using var command = connection.CreateCommand();
                    command.CommandText = "SELECT state FROM onboardings WHERE database_key = 'mydb'";
                    if (await command.ExecuteScalarAsync() as string == "completed") return Stats.Ms(origin, Stopwatch.GetTimestamp());
                }
                foreach (var prompt in slack.PendingPrompts().Where(p => clicked.Add(p.Ts))) await slack.ApproveAsync(http, prompt);
                await Task.Delay(20);
            }
            throw new TimeoutException("the SQLite run did not complete within 120 s");
        }
        finally
        {
            await factory.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }
    }

    private sealed record Outcome(bool Completed, double TotalMs, double KillToTakeoverMs, int DuplicateApplies, string Phases);

    private static async Task<Outcome> OneRunAsync(bool kill, string slowStep, int slowMs, int killAfterMs, int warmups)
    {
        await using var slack = await BenchSlack.StartAsync();
        var settings = InProcessHost.BaseSettings(slack);
        InProcessHost.AddDatabases(settings, ["mydb", .. BenchOnboarding.WarmupAliases(warmups)]);
        var database = "bench_kill_" + Guid.NewGuid().ToString("N")[..8];
        settings["Storage:Provider"] = "Postgres";
        if (Environment.GetEnvironmentVariable("KILLBENCH_LOGS") is { Length: > 0 })
        {
            settings["Logging:LogLevel:PrequelBot"] = "Information";
            settings["Logging:Console:FormatterName"] = "simple";
            settings["Logging:Console:FormatterOptions:SingleLine"] = "true";
            settings["Logging:Console:FormatterOptions:TimestampFormat"] = "HH:mm:ss.fff ";
        }
        settings["Storage:ConnectionString"] = await BenchPostgres.CreateAsync(database);
        await SharedEffects.CreateTableAsync(settings["Storage:ConnectionString"]!);
        var file = Path.Combine(Path.GetTempPath(), database + ".json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(settings));
        var log = new ApplyLog();
        var applies = new List<(string Step, int Attempt, long At, string Node)>();
        log.OnApply = (_, step, attempt, at) => { lock (applies) applies.Add((step, attempt, at, "?")); };
        var nodes = new Dictionary<string, NodeProcess>();
        var phases = new List<string>();
        var origin = Stopwatch.GetTimestamp();
        void Phase(string what) => phases.Add(string.Create(CultureInfo.InvariantCulture, $"  {Stats.Ms(origin, Stopwatch.GetTimestamp()),9:0} ms  {what}"));
        try
        {
            var slow = new[] { "--slow-step", slowStep, "--slow-ms", slowMs.ToString(CultureInfo.InvariantCulture) };
            nodes["A"] = await NodeProcess.StartAsync("A", file, noApprovals: false, log, slow);
            nodes["B"] = await NodeProcess.StartAsync("B", file, noApprovals: false, log, slow);
            using var http = new HttpClient { BaseAddress = nodes["A"].Address };
            using var survivorHttp = new HttpClient { BaseAddress = nodes["B"].Address };
            var client = http;
            // Warm-up: the command and clicks alternate between the nodes; steps run on whichever node fetches them.
            foreach (var alias in BenchOnboarding.WarmupAliases(warmups)) await BenchOnboarding.WarmUpAsync(slack, [http, survivorHttp], alias, () => BenchOnboarding.PostgresStatesAsync(settings["Storage:ConnectionString"]!));
            lock (applies) applies.Clear();
            origin = Stopwatch.GetTimestamp();
            Phase("connect mydb (via A)");
            await slack.CommandAsync(client, "connect mydb");
            var clicked = new HashSet<string>();
            var clicks = new List<(string Id, string Step, long At)>();
            var onboardingId = "";
            var killedAt = 0L;
            var deadline = DateTime.UtcNow.AddSeconds(300);
            var completed = false;
            while (DateTime.UtcNow < deadline)
            {
                if ((await BenchOnboarding.PostgresStatesAsync(settings["Storage:ConnectionString"]!)).GetValueOrDefault("mydb") == "completed") { completed = true; break; }
                foreach (var prompt in slack.PendingPrompts().Where(p => clicked.Add(p.Ts)))
                {
                    onboardingId = prompt.OnboardingId;
                    Phase($"prompt for {prompt.Step} appeared; clicked");
                    var clickedAt = Stopwatch.GetTimestamp();
                    await slack.ApproveAsync(client, prompt);
                    clicks.Add((prompt.OnboardingId, prompt.Step, clickedAt));
                }
                if (kill && killedAt == 0 && log.Attempts(onboardingId, slowStep) >= 1)
                {
                    var (startedAt, node) = await log.FirstApplyAsync(onboardingId, slowStep);
                    Phase($"{slowStep} Apply started on node {node}");
                    var wait = TimeSpan.FromMilliseconds(killAfterMs) - TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - startedAt) / (double)Stopwatch.Frequency);
                    if (wait > TimeSpan.Zero) await Task.Delay(wait);
                    nodes[node].Kill();
                    killedAt = Stopwatch.GetTimestamp();
                    Phase($"node {node} killed (SIGKILL), {killAfterMs} ms into {slowStep}");
                    if (node == "A") client = survivorHttp;
                }
                await Task.Delay(20);
            }
            Phase(completed ? "onboarding completed" : "onboarding did NOT complete within 300 s");
            var takeover = 0.0;
            List<(string Step, int Attempt, long At, string Node)> snapshot;
            lock (applies) snapshot = [.. applies];
            var again = snapshot.Where(a => a.Step == slowStep && a.At > killedAt).Select(a => a.At).DefaultIfEmpty().Min();
            if (kill && killedAt != 0 && again > 0)
            {
                takeover = Stats.Ms(killedAt, again);
                phases.Add(string.Create(CultureInfo.InvariantCulture, $"  {slowStep} taken over {takeover:0} ms after the kill (lease lapse + reconciler wake + job pick-up)"));
            }
            // Click → that step's first Apply (on whichever node ran it), the killed step excluded when killed.
            var clickToRun = clicks.Where(c => !(kill && c.Step == slowStep))
                .Select(c => snapshot.Where(a => a.Step == c.Step && a.At >= c.At).Select(a => a.At).DefaultIfEmpty().Min() is var at && at > 0 ? Stats.Ms(c.At, at) : double.NaN)
                .Where(ms => !double.IsNaN(ms)).ToList();
            phases.Add("  click → step running: " + Stats.Summary(clickToRun) + " (" + string.Join(", ", clickToRun.Select(ms => ms.ToString("0", CultureInfo.InvariantCulture))) + " ms)");
            var duplicates = snapshot.Where(a => a.Step != slowStep && a.Step != "wait-replica").GroupBy(a => a.Step).Count(g => g.Count() > 1);
            return new Outcome(completed, Stats.Ms(origin, Stopwatch.GetTimestamp()), takeover, duplicates, string.Join('\n', phases));
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("KILLBENCH_LOGS") is { Length: > 0 })
                foreach (var (name, node) in nodes) Console.WriteLine($"--- node {name} log:\n" + string.Join('\n', node.Tail));
            foreach (var node in nodes.Values) await node.DisposeAsync();
            await BenchPostgres.DropAsync(database);
            File.Delete(file);
        }
    }

    private static async Task<Dictionary<string, string>> SqliteStatesAsync(string file)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT database_key, state FROM onboardings";
        var states = new Dictionary<string, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) states[reader.GetString(0)] = reader.GetString(1);
        return states;
    }
}
