using System.Diagnostics;
using System.Globalization;
using System.Net;
using Hangfire;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Bench.Workflow;

/// <summary>
/// Benchmark 2: 1,000 onboardings waiting on replicas (<c>connect dbNNNN --replica</c>, create-replica approved, the
/// replica stays "creating" for ever), SQLite + Hangfire.InMemory, one host in-process. Samples Hangfire's processing
/// jobs (and which of them have been running for more than 2 s: a pinned worker), thread-pool and process threads;
/// memory per waiting onboarding; and click → step running for probe onboardings approved meanwhile.
/// </summary>
internal static class ReplicaBench
{
    public static async Task<int> RunAsync(Args args)
    {
        var count = args.Int("--onboardings", 1000);
        var probes = args.Int("--probes", 20);
        var steady = TimeSpan.FromSeconds(args.Int("--steady-seconds", 60));
        var limit = TimeSpan.FromSeconds(args.Int("--max-seconds", 900));
        using var stop = new CancellationTokenSource(limit);
        var directory = Path.Combine(Path.GetTempPath(), "prequelbot-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await using var slack = await BenchSlack.StartAsync();
        var settings = InProcessHost.BaseSettings(slack);
        var waiting = Enumerable.Range(1, count).Select(i => $"db{i:D4}").ToList();
        var probeAliases = Enumerable.Range(1, probes).Select(i => $"probe{i:D2}").ToList();
        InProcessHost.AddDatabases(settings, waiting.Concat(probeAliases));
        settings["Storage:Provider"] = "Sqlite";
        settings["Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "state.db")}";
        // Re-checks often enough that the run sees many of them, unless --production-backoff keeps the defaults (15 s → 60 s).
        var production = args.Has("--production-backoff");
        if (!production)
        {
            settings["Workflow:RecheckInitialDelay"] = "00:00:05";
            settings["Workflow:RecheckMaxDelay"] = "00:00:15";
        }

        var world = new FakeInfrastructure { ReplicaChecksBeforeAvailable = int.MaxValue };
        var log = new ApplyLog();
        var (factory, address) = InProcessHost.Start(settings, world.Handlers().Select(h => new TimedHandler(h, log, "in-process")));
        var failures = 0;
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 8, UseProxy = false }) { BaseAddress = address };
            var process = Process.GetCurrentProcess();
            var (heapBefore, wsBefore) = Memory(process);
            Stats.Say($"host at {address}; before: GC heap {heapBefore / 1048576.0:0.0} MiB, working set {wsBefore / 1048576.0:0.0} MiB");

            // The probes first, so their prompts are waiting for a click when the steady state begins (a new onboarding
            // started during the steady state waits for the busy `steps`/`chat` workers before its first prompt shows).
            foreach (var alias in probeAliases)
            {
                if (await slack.CommandAsync(http, $"connect {alias}", stop.Token) != HttpStatusCode.OK) failures++;
            }
            while (slack.PendingPrompts().Count(p => p.Database.StartsWith("probe", StringComparison.Ordinal)) < probes && !stop.IsCancellationRequested)
                await Task.Delay(100, CancellationToken.None);
            Stats.Say($"{probes} probe onboardings wait for approval; starting {count} onboardings --replica");

            await ParallelAsync(waiting, async alias =>
            {
                if (await slack.CommandAsync(http, $"connect {alias} --replica", stop.Token) != HttpStatusCode.OK) Interlocked.Increment(ref failures);
            }, stop.Token);
            Stats.Say("all connected; approving create-replica as the prompts appear");

            var clicked = new HashSet<string>();
            while (log.CountSteps(StepNames.WaitReplica, 1) < count && !stop.IsCancellationRequested)
            {
                var batch = slack.PendingPrompts().Where(p => p.Step == StepNames.CreateReplica && clicked.Add(p.OnboardingId)).ToList();
                if (batch.Count == 0) { await Task.Delay(200, CancellationToken.None); continue; }
                await ParallelAsync(batch, async p =>
                {
                    if (await slack.ApproveAsync(http, p, stop.Token) != HttpStatusCode.OK) Interlocked.Increment(ref failures);
                }, stop.Token);
            }
            Stats.Say($"{log.CountSteps(StepNames.WaitReplica, 1)} onboardings in wait-replica; waiting for every one to re-check once");
            while (log.CountSteps(StepNames.WaitReplica, 2) < count && !stop.IsCancellationRequested) await Task.Delay(500, CancellationToken.None);

            // Steady state: sample while probe onboardings are started and approved.
            var monitoring = JobStorage.Current.GetMonitoringApi();
            var samples = new List<(long Processing, int Pinned, int PoolThreads, long PoolQueue, int ProcessThreads)>();
            var (heapSteady, _) = Memory(process);
            var rechecksBefore = log.Applies;
            var steadyClock = Stopwatch.StartNew();
            var probeTask = ProbeAsync(slack, http, log, steady, stop.Token);
            while (steadyClock.Elapsed < steady && !stop.IsCancellationRequested)
            {
                var processing = monitoring.ProcessingCount();
                var pinned = monitoring.ProcessingJobs(0, 100).Count(j => j.Value.StartedAt is { } started && DateTime.UtcNow - started > TimeSpan.FromSeconds(2));
                process.Refresh();
                samples.Add((processing, pinned, ThreadPool.ThreadCount, ThreadPool.PendingWorkItemCount, process.Threads.Count));
                await Task.Delay(500, CancellationToken.None);
            }
            var (probeResults, probeFailures) = await probeTask;
            failures += probeFailures;
            var rechecks = log.Applies - rechecksBefore;
            var stillWaiting = log.CountSteps(StepNames.WaitReplica, 2);
            var scheduled = monitoring.ScheduledCount();
            slack.Forget(); // the fake Slack lives in this process too: its copies of 2,000+ messages are not the host's memory
            var (heapAfter, wsAfter) = Memory(process);

            Console.WriteLine();
            Console.WriteLine($"PrequelBot 1,000 waiting replicas: SQLite + Hangfire.InMemory in-process, {count} onboardings in wait-replica (re-check {(production ? "15 s → 60 s, production" : "5 s → 15 s")}), {probes} probe onboardings clicked meanwhile");
            Console.WriteLine($"load average at end: {Stats.LoadAverage()}; failures (non-200, probe Apply not within 60 s): {failures}");
            Console.WriteLine("| what | value |");
            Console.WriteLine("|---|---|");
            Row("onboardings in wait-replica that re-checked", $"{stillWaiting} / {count}");
            Row("Hangfire scheduled jobs (re-checks waiting)", $"{scheduled}");
            Row($"Applies during {steady.TotalSeconds:0} s (re-checks, plus ~100 of the probes)", string.Create(CultureInfo.InvariantCulture, $"{rechecks} ({rechecks / steady.TotalSeconds:0.0}/s)"));
            Row("Hangfire processing jobs (samples every 0.5 s)", string.Create(CultureInfo.InvariantCulture, $"mean {samples.Average(s => s.Processing):0.00}, max {samples.Max(s => s.Processing)}, n {samples.Count}"));
            Row("workers pinned (jobs processing > 2 s)", $"max {samples.Max(s => s.Pinned)}");
            Row("thread pool threads", $"min {samples.Min(s => s.PoolThreads)}, max {samples.Max(s => s.PoolThreads)}; queued work items max {samples.Max(s => s.PoolQueue)}");
            Row("process threads", $"min {samples.Min(s => s.ProcessThreads)}, max {samples.Max(s => s.ProcessThreads)}");
            Row("GC heap before → after (after full GC)", string.Create(CultureInfo.InvariantCulture, $"{heapBefore / 1048576.0:0.0} → {heapAfter / 1048576.0:0.0} MiB = {(heapAfter - heapBefore) / 1024.0 / count:0.0} KiB per onboarding"));
            Row("working set before → after", string.Create(CultureInfo.InvariantCulture, $"{wsBefore / 1048576.0:0.0} → {wsAfter / 1048576.0:0.0} MiB = {(wsAfter - wsBefore) / 1024.0 / count:0.0} KiB per onboarding"));
            Row("GC heap growth during the steady state", string.Create(CultureInfo.InvariantCulture, $"{heapSteady / 1048576.0:0.0} → {heapAfter / 1048576.0:0.0} MiB = {(heapAfter - heapSteady) / (double)Math.Max(1, rechecks):0} bytes per Apply"));
            var succeeded = monitoring.SucceededListCount();
            var byMethod = monitoring.SucceededJobs(0, (int)Math.Min(succeeded, int.MaxValue))
                .GroupBy(j => j.Value?.Job is { } job ? $"{job.Type.Name}.{job.Method.Name}" : "?")
                .OrderByDescending(g => g.Count())
                .Select(g => $"{g.Key} {g.Count()}");
            Row("Hangfire succeeded jobs kept (in memory until they expire)", $"{succeeded}: {string.Join(", ", byMethod)}");
            Row("probe click → Apply starts", Stats.Summary(probeResults));
            var ok = failures == 0 && stillWaiting == count && samples.Max(s => s.Pinned) == 0 && probeResults.Count > 0;
            Console.WriteLine(ok ? "result: ok (no pinned workers, every onboarding re-checking, probes ran)" : "result: FAILED (see the table)");
            return ok ? 0 : 1;
        }
        finally
        {
            await factory.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        }

        static void Row(string what, string value) => Console.WriteLine($"| {what} | {value} |");
    }

    private static (long Heap, long WorkingSet) Memory(Process process)
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        process.Refresh();
        return (GC.GetTotalMemory(forceFullCollection: true), process.WorkingSet64);
    }

    private static Task ParallelAsync<T>(IEnumerable<T> items, Func<T, Task> action, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (item, _) => await action(item));

    /// <summary>Clicks the probe onboardings' pending prompts one at a time, timing click → Apply.</summary>
    private static async Task<(List<double>, int)> ProbeAsync(BenchSlack slack, HttpClient http, ApplyLog log, TimeSpan duration, CancellationToken cancellationToken)
    {
        var failures = 0;
        var results = new List<double>();
        var clock = Stopwatch.StartNew();
        var clicked = new HashSet<string>();
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var prompt = slack.PendingPrompts().Where(p => p.Database.StartsWith("probe", StringComparison.Ordinal) && !clicked.Contains(p.OnboardingId + "/" + p.Step))
                .OrderBy(p => p.Ts, StringComparer.Ordinal).FirstOrDefault();
            if (prompt is null) { await Task.Delay(20, CancellationToken.None); continue; }
            clicked.Add(prompt.OnboardingId + "/" + prompt.Step);
            var sent = Stopwatch.GetTimestamp();
            if (await slack.ApproveAsync(http, prompt, cancellationToken) != HttpStatusCode.OK) { failures++; continue; }
            try
            {
                var (at, _) = await log.FirstApplyAsync(prompt.OnboardingId, prompt.Step).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
                results.Add(Stats.Ms(sent, at));
            }
            catch (TimeoutException)
            {
                failures++;
            }
        }
        return (results, failures);
    }
}
