using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace PrequelBot.Bench.Workflow;

/// <summary>
/// Benchmark 5: many onboardings at once on two nodes. The two host processes of <see cref="KillBench"/> (every Hangfire
/// server, production engine settings) on one fresh PostgreSQL database; <c>--onboardings</c> <c>connect sNNN</c>
/// commands spread evenly over <c>--start-seconds</c>, alternating between node A and node B, and every prompt clicked
/// as soon as it appears (the clicks alternate too). Measures click → step running per 10-second window of the run,
/// connect → completed per onboarding, and checks that every onboarding completes and no step is applied twice.
/// </summary>
internal static class ScaleBench
{
    private const double TargetP99Ms = 1000;
    private const int WindowSeconds = 10;

    /// <summary>One click: when it was sent and answered, and the step's first Apply (0 when none was seen).</summary>
    private sealed record ClickResult(string OnboardingId, string Step, bool First, long SentAt, long AckedAt, bool Ok, long ApplyAt, string Node, string Via);

    private sealed record Apply(string OnboardingId, string Step, int Attempt, long At, string Node);

    public static async Task<int> RunAsync(Args args)
    {
        var count = args.Int("--onboardings", 200);
        var startSeconds = args.Int("--start-seconds", 60);
        var warmups = args.Int("--warmup", 1);
        var maxSeconds = args.Int("--max-seconds", 600);
        var slowStep = args.Get("--slow-step");
        var slowMs = args.Int("--slow-ms", 4000);
        if (count < 1 || startSeconds < 0) throw new ArgumentException("--onboardings must be ≥ 1 and --start-seconds ≥ 0");
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(maxSeconds));
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
        Console.CancelKeyPress += onCancel;
        var loadAtStart = Stats.LoadAverage();
        Stats.Say($"scale: {count} onboardings over {startSeconds} s on two PostgreSQL nodes; load average {loadAtStart}");

        await using var slack = await BenchSlack.StartAsync();
        var settings = InProcessHost.BaseSettings(slack);
        var aliases = Enumerable.Range(1, count).Select(i => $"s{i:D3}").ToList();
        InProcessHost.AddDatabases(settings, [.. aliases, .. BenchOnboarding.WarmupAliases(warmups)]);
        var database = "bench_scale_" + Guid.NewGuid().ToString("N")[..8];
        settings["Storage:Provider"] = "Postgres";
        var file = Path.Combine(Path.GetTempPath(), database + ".json");
        var log = new ApplyLog();
        var nodes = new List<NodeProcess>();
        try
        {
            var connectionString = await BenchPostgres.CreateAsync(database);
            settings["Storage:ConnectionString"] = connectionString;
            await SharedEffects.CreateTableAsync(connectionString);
            var statements = args.Has("--pg-statements") && await StatementsOnAsync(connectionString);
            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(settings));
            string[] extra = slowStep is null ? [] : ["--slow-step", slowStep, "--slow-ms", slowMs.ToString(CultureInfo.InvariantCulture)];
            nodes.Add(await NodeProcess.StartAsync("A", file, noApprovals: false, log, extra));
            nodes.Add(await NodeProcess.StartAsync("B", file, noApprovals: false, log, extra));
            using var httpA = new HttpClient { BaseAddress = nodes[0].Address };
            using var httpB = new HttpClient { BaseAddress = nodes[1].Address };
            var clients = new[] { (Name: "A", Http: httpA), (Name: "B", Http: httpB) };
            foreach (var alias in BenchOnboarding.WarmupAliases(warmups))
                await BenchOnboarding.WarmUpAsync(slack, [httpA, httpB], alias, () => BenchOnboarding.PostgresStatesAsync(connectionString));

            var applies = new List<Apply>();
            log.OnApplyOnNode = (id, step, attempt, at, node) => { lock (applies) applies.Add(new Apply(id, step, attempt, at, node)); };
            slack.TrackChanges();
            var cpuBefore = await CpuAsync(nodes, database);
            var run = await DriveAsync(slack, clients, aliases, startSeconds, connectionString, log, stop.Token);
            var loadAtEnd = Stats.LoadAverage();
            var cpuAfter = await CpuAsync(nodes, database);
            var runSeconds = Stats.Ms(run.Origin, Stopwatch.GetTimestamp()) / 1000;
            var cpu = CpuUsed(cpuBefore, cpuAfter);
            List<Apply> snapshot;
            lock (applies) snapshot = [.. applies];
            var setup = $"nodes A (pid {nodes[0].Id}, {nodes[0].Servers}) and B (pid {nodes[1].Id}, {nodes[1].Servers}) on database {database}";
            setup += string.Create(CultureInfo.InvariantCulture, $"\n  CPU used over the {runSeconds:0} s run ({Environment.ProcessorCount} cores = {Environment.ProcessorCount * runSeconds:0} s): {cpu}");
            var exit = Report(run, snapshot, aliases, startSeconds, warmups, slowStep, setup, loadAtStart, loadAtEnd, stop.IsCancellationRequested);
            if (statements) await PrintStatementsAsync(connectionString);
            return exit;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            if (Environment.GetEnvironmentVariable("SCALEBENCH_LOGS") is { Length: > 0 })
                foreach (var (node, name) in nodes.Zip(["A", "B"])) Console.WriteLine($"--- node {name} log (last lines, Warning and above):\n" + string.Join('\n', node.Tail));
            await Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
            await BenchPostgres.DropAsync(database);
            File.Delete(file);
        }
    }

    /// <summary>
    /// CPU time so far of this process (bench + fake Slack), of each node, and of each PostgreSQL backend now connected
    /// to the run's database (keyed "pg pid").
    /// </summary>
    private static async Task<Dictionary<string, TimeSpan>> CpuAsync(List<NodeProcess> nodes, string database)
    {
        using var self = Process.GetCurrentProcess();
        var cpu = new Dictionary<string, TimeSpan>
        {
            ["bench + fake Slack"] = self.TotalProcessorTime,
            ["node A"] = nodes[0].ProcessorTime,
            ["node B"] = nodes[1].ProcessorTime,
        };
        foreach (var pid in await BenchPostgres.BackendsAsync(database))
            cpu["pg " + pid.ToString(CultureInfo.InvariantCulture)] = TimeSpan.FromSeconds(IdleBench.CpuTicks(pid) / 100.0);
        return cpu;
    }

    /// <summary>CPU used between two <see cref="CpuAsync"/> snapshots; the backends summed (those connected at the end).</summary>
    private static string CpuUsed(Dictionary<string, TimeSpan> before, Dictionary<string, TimeSpan> after)
    {
        var used = after.ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key));
        var pg = used.Where(p => p.Key.StartsWith("pg ", StringComparison.Ordinal)).ToList();
        return string.Join(", ", used.Where(p => !p.Key.StartsWith("pg ", StringComparison.Ordinal)).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value.TotalSeconds:0.0} s"))) +
               string.Create(CultureInfo.InvariantCulture, $", PostgreSQL {pg.Sum(p => p.Value.TotalSeconds):0.0} s ({pg.Count} backends connected at the end)");
    }

    /// <summary><c>--pg-statements</c>: pg_stat_statements in the run's database, when the server loads it.</summary>
    private static async Task<bool> StatementsOnAsync(string connectionString)
    {
        try
        {
            await using var source = Npgsql.NpgsqlDataSource.Create(connectionString);
            await using var create = source.CreateCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            await create.ExecuteNonQueryAsync();
            return true;
        }
        catch (Npgsql.PostgresException e)
        {
            Stats.Say("--pg-statements: pg_stat_statements not available: " + e.MessageText);
            return false;
        }
    }

    /// <summary>The statements of the run's database (warm-up included) that took the most server time.</summary>
    private static async Task PrintStatementsAsync(string connectionString)
    {
        await using var source = Npgsql.NpgsqlDataSource.Create(connectionString);
        await using var query = source.CreateCommand(
            "SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 140) FROM pg_stat_statements " +
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT 12");
        Console.WriteLine();
        Console.WriteLine("PostgreSQL statements of the run's database by total execution time (pg_stat_statements, warm-up included):");
        Console.WriteLine("| calls | total ms | mean ms | rows | statement |");
        Console.WriteLine("|---|---|---|---|---|");
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var calls = reader.GetInt64(0);
            var total = reader.GetDouble(1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {calls} | {total:0} | {total / Math.Max(1, calls):0.00} | {reader.GetInt64(2)} | `{reader.GetString(3).Replace("|", "\\|", StringComparison.Ordinal)}` |"));
        }
    }

    private sealed record Run(long Origin, long[] ConnectSent, HttpStatusCode?[] ConnectStatus, Dictionary<string, long> CompletedAt,
                              Dictionary<string, string> States, List<ClickResult> Clicks);

    /// <summary>Sends the connects on schedule and, meanwhile, clicks every new prompt and notes when each onboarding completes.</summary>
    private static async Task<Run> DriveAsync(BenchSlack slack, (string Name, HttpClient Http)[] clients, List<string> aliases, int startSeconds,
                                              string connectionString, ApplyLog log, CancellationToken stop)
    {
        var n = aliases.Count;
        var connectSent = new long[n];
        var connectStatus = new HttpStatusCode?[n];
        var connectTasks = new Task?[n];
        var sent = 0;
        var clickCount = 0;
        using var finished = CancellationTokenSource.CreateLinkedTokenSource(stop);
        using var applyWait = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var origin = Stopwatch.GetTimestamp();

        // Open loop: connect i is due at i × start-seconds / n after the first, whatever the earlier ones are doing.
        async Task SendConnectsAsync()
        {
            for (var i = 0; i < n && !stop.IsCancellationRequested; i++)
            {
                var due = origin + (long)(i * (double)startSeconds / n * Stopwatch.Frequency);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), stop);
                var index = i;
                connectSent[index] = Stopwatch.GetTimestamp();
                Interlocked.Increment(ref sent);
                connectTasks[index] = SendAsync();

                async Task SendAsync()
                {
                    try { connectStatus[index] = await slack.CommandAsync(clients[index % 2].Http, "connect " + aliases[index], stop); }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { connectStatus[index] = null; }
                }
            }
            await Task.WhenAll(connectTasks.OfType<Task>());
        }

        // One poll loop over the prompts the fake Slack saw posted or updated since the last pass; each click is its own
        // task, so a slow answer does not hold back the next prompt.
        var clicks = new List<Task<ClickResult>>();
        async Task ClickLoopAsync()
        {
            var clickedTs = new HashSet<string>();
            var clickedSteps = new HashSet<string>();
            var turn = 0;
            while (!finished.IsCancellationRequested)
            {
                foreach (var prompt in slack.TakeChangedPrompts())
                {
                    if (!clickedTs.Add(prompt.Ts)) continue;
                    var first = clickedSteps.Add(prompt.OnboardingId + "/" + prompt.Step);
                    var (name, http) = clients[turn++ % 2];
                    clicks.Add(ClickAsync(slack, http, name, prompt, first, log, stop, applyWait.Token));
                    Interlocked.Increment(ref clickCount);
                }
                try { await Task.Delay(10, finished.Token); } catch (OperationCanceledException) { }
            }
        }

        var connecting = SendConnectsAsync();
        var clicking = ClickLoopAsync();
        var completedAt = new Dictionary<string, long>();
        var states = new Dictionary<string, string>();
        var nextProgress = origin + WindowSeconds * Stopwatch.Frequency;
        while (!stop.IsCancellationRequested)
        {
            try { states = await BenchOnboarding.PostgresStatesAsync(connectionString); }
            catch (Npgsql.NpgsqlException e) { Stats.Say("state poll failed: " + e.Message); }
            var now = Stopwatch.GetTimestamp();
            var over = 0;
            for (var i = 0; i < n; i++)
            {
                var state = states.GetValueOrDefault(aliases[i]);
                if (state == "completed") completedAt.TryAdd(aliases[i], now);
                if (state is "completed" or "failed" or "rejected" or "cancelled" || (connectTasks[i] is { IsCompleted: true } && connectStatus[i] is not HttpStatusCode.OK)) over++;
            }
            if (now >= nextProgress)
            {
                nextProgress += WindowSeconds * Stopwatch.Frequency;
                Stats.Say(string.Create(CultureInfo.InvariantCulture,
                    $"{Stats.Ms(origin, now) / 1000,5:0} s: {Volatile.Read(ref sent)} connects sent, {completedAt.Count} completed, {Volatile.Read(ref clickCount)} clicks, load {Stats.LoadAverage()}"));
            }
            if (connecting.IsCompleted && over == n) break;
            try { await Task.Delay(100, stop); } catch (OperationCanceledException) { }
        }
        if (stop.IsCancellationRequested) Stats.Say("stopped by --max-seconds (or Ctrl+C) before every onboarding finished");

        await finished.CancelAsync();
        try { await connecting; } catch (OperationCanceledException) { }
        await clicking;
        // Every clicked step of a finished onboarding has run; a few seconds for the last APPLY lines to be read.
        applyWait.CancelAfter(TimeSpan.FromSeconds(10));
        var results = (await Task.WhenAll(clicks)).ToList();
        return new Run(origin, connectSent[..Volatile.Read(ref sent)], connectStatus[..Volatile.Read(ref sent)], completedAt, states, results);
    }

    private static async Task<ClickResult> ClickAsync(BenchSlack slack, HttpClient http, string via, Prompt prompt, bool first, ApplyLog log,
                                                      CancellationToken stop, CancellationToken applyWait)
    {
        var sentAt = Stopwatch.GetTimestamp();
        HttpStatusCode status;
        try { status = await slack.ApproveAsync(http, prompt, stop); }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { return new ClickResult(prompt.OnboardingId, prompt.Step, first, sentAt, 0, false, 0, via, via); }
        var ackedAt = Stopwatch.GetTimestamp();
        if (status != HttpStatusCode.OK || !first) return new ClickResult(prompt.OnboardingId, prompt.Step, first, sentAt, ackedAt, status == HttpStatusCode.OK, 0, via, via);
        try
        {
            var (at, node) = await log.FirstApplyAsync(prompt.OnboardingId, prompt.Step).WaitAsync(applyWait);
            return new ClickResult(prompt.OnboardingId, prompt.Step, first, sentAt, ackedAt, true, at, node, via);
        }
        catch (OperationCanceledException)
        {
            return new ClickResult(prompt.OnboardingId, prompt.Step, first, sentAt, ackedAt, true, 0, "?", via);
        }
    }

    private static int Report(Run run, List<Apply> applies, List<string> aliases, int startSeconds, int warmups, string? slowStep, string setup,
                              string loadAtStart, string loadAtEnd, bool stopped)
    {
        var inv = CultureInfo.InvariantCulture;
        var n = aliases.Count;
        var sec = (long from, long to) => Stats.Ms(from, to) / 1000;
        var connectsOk = run.ConnectStatus.Count(s => s == HttpStatusCode.OK);
        var completed = run.CompletedAt.Count;
        var toCompleted = aliases.Select((alias, i) => run.CompletedAt.TryGetValue(alias, out var at) && i < run.ConnectSent.Length ? sec(run.ConnectSent[i], at) : double.NaN)
            .Where(s => !double.IsNaN(s)).Order().ToList();
        var timed = run.Clicks.Where(c => c.First && c.Ok && c.ApplyAt != 0).ToList();
        var clickMs = timed.Select(c => Stats.Ms(c.SentAt, c.ApplyAt)).Order().ToList();
        var failedClicks = run.Clicks.Count(c => !c.Ok);
        var noApply = run.Clicks.Count(c => c.First && c.Ok && c.ApplyAt == 0);
        var repeats = run.Clicks.Count(c => !c.First);
        var twice = applies.Where(a => a.Step != "wait-replica").GroupBy(a => (a.OnboardingId, a.Step)).Where(g => g.Count() > 1).ToList();
        var p99 = Stats.Percentile(clickMs, 0.99);

        Console.WriteLine();
        Console.WriteLine($"Scale: {n} onboardings over {startSeconds} s on two PostgreSQL nodes, connects and clicks alternating A/B, {warmups} warm-up onboarding(s) first" +
                          (slowStep is null ? "" : $", slow step {slowStep}"));
        Console.WriteLine($"  {setup}");
        Console.WriteLine(string.Create(inv, $"  load average at start {loadAtStart}, at end {loadAtEnd}"));
        Console.WriteLine(string.Create(inv, $"  connects sent {run.ConnectSent.Length}/{n} (answered 200: {connectsOk}), the last {(run.ConnectSent.Length > 0 ? sec(run.Origin, run.ConnectSent[^1]) : 0):0.0} s after the first"));
        var otherStates = run.States.Where(p => aliases.Contains(p.Key) && p.Value != "completed").GroupBy(p => p.Value).Select(g => $"{g.Count()} {g.Key}");
        Console.WriteLine($"  completed {completed}/{n}" + (completed < n ? $" (others: {string.Join(", ", otherStates.DefaultIfEmpty("none started"))})" : ""));
        if (completed > 0)
            Console.WriteLine(string.Create(inv, $"  wall time first connect → last completed {sec(run.Origin, run.CompletedAt.Values.Max()):0.0} s"));
        Console.WriteLine(string.Create(inv,
            $"  connect → completed per onboarding: p50 {Stats.Percentile(toCompleted, 0.5):0.00} s  p95 {Stats.Percentile(toCompleted, 0.95):0.00} s  max {(toCompleted.Count > 0 ? toCompleted[^1] : double.NaN):0.00} s (state polled every 100 ms)"));
        Console.WriteLine($"  click → step running (click sent → the step's first Apply, on either node): {Stats.Summary(clickMs)}");
        Console.WriteLine($"  click HTTP answer: {Stats.Summary(timed.Select(c => Stats.Ms(c.SentAt, c.AckedAt)))}");
        foreach (var via in run.Clicks.Where(c => c.Ok && c.AckedAt != 0).GroupBy(c => c.Via).OrderBy(g => g.Key))
            Console.WriteLine($"    sent to node {via.Key}: {Stats.Summary(via.Select(c => Stats.Ms(c.SentAt, c.AckedAt)))}");
        Console.WriteLine($"  clicks {run.Clicks.Count}: failed (non-200 or no answer) {failedClicks}, no Apply seen {noApply}, prompts re-posted for a clicked step {repeats}");
        var perNode = applies.GroupBy(a => a.Node).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
        var clickedPerNode = timed.GroupBy(c => c.Node).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}");
        Console.WriteLine($"  Apply calls per node: {string.Join(", ", perNode)} (of them approved steps: {string.Join(", ", clickedPerNode)})");
        Console.WriteLine($"  steps applied twice: {twice.Count}" + (twice.Count > 0 ? " — " + string.Join(", ", twice.Take(10).Select(g => $"{g.Key.Step} of {g.Key.OnboardingId} ×{g.Count()} on {string.Join('/', g.Select(a => a.Node))}")) : ""));

        Console.WriteLine();
        Console.WriteLine($"Click → step running per {WindowSeconds} s window (by when the click was sent; 0 = first connect):");
        Console.WriteLine("| window | connects sent | clicks | p50 | p95 | p99 | max | completed |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        var last = new[] { timed.Select(c => c.SentAt).DefaultIfEmpty(run.Origin).Max(), run.CompletedAt.Values.DefaultIfEmpty(run.Origin).Max() }.Max();
        for (var w = 0; w <= (int)(sec(run.Origin, last) / WindowSeconds); w++)
        {
            bool In(long at) => (int)Math.Floor(sec(run.Origin, at) / WindowSeconds) == w;
            var s = timed.Where(c => In(c.SentAt)).Select(c => Stats.Ms(c.SentAt, c.ApplyAt)).Order().ToList();
            var figures = s.Count == 0
                ? "– | – | – | –"
                : string.Create(inv, $"{Stats.Percentile(s, 0.5):0} ms | {Stats.Percentile(s, 0.95):0} ms | {Stats.Percentile(s, 0.99):0} ms | {s[^1]:0} ms");
            Console.WriteLine(string.Create(inv, $"| {w * WindowSeconds}–{(w + 1) * WindowSeconds} s | {run.ConnectSent.Count(In)} | {s.Count} | {figures} | {run.CompletedAt.Values.Count(In)} |"));
        }

        var met = !double.IsNaN(p99) && p99 <= TargetP99Ms;
        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"target: all {n} completed: {(completed == n ? "met" : "MISSED")}; click → step p99 ≤ {TargetP99Ms:0} ms over the run: {(met ? "met" : "MISSED")} (p99 {p99:0.0} ms); steps applied twice: {twice.Count}"));
        var ok = !stopped && completed == n && connectsOk == n && met && twice.Count == 0 && failedClicks == 0 && noApply == 0;
        return ok ? 0 : 1;
    }
}
