using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PrequelBot.Bench.Workflow;

/// <summary>
/// Benchmark 3: the BUILT host (<c>dotnet PrequelBot.Host.dll</c>, copied next to this program by the project
/// reference) as a separate process, configured only by environment variables, on a loopback port the OS picks.
/// Times Process.Start → first 200 from <c>/healthz</c> and from <c>/readyz</c> over several starts, then leaves one
/// host idle and reads its VmRSS and the CPU ticks of the host and (PostgreSQL) of its database's backends.
/// </summary>
internal static partial class IdleBench
{
    private const double TicksPerSecond = 100; // getconf CLK_TCK on Linux

    private static readonly string[] Storages = ["sqlite", "postgres"];

    public static async Task<int> RunAsync(Args args)
    {
        var which = (args.Get("--storage") ?? "both").ToLowerInvariant();
        var starts = args.Int("--starts", 5);
        var idle = TimeSpan.FromSeconds(args.Int("--idle-seconds", 30));
        var cpu = TimeSpan.FromSeconds(args.Int("--cpu-seconds", 60));
        var rows = new List<string>();
        var ok = true;
        await using var slack = await BenchSlack.StartAsync();
        foreach (var storage in Storages.Where(s => which == "both" || which == s))
        {
            var directory = Path.Combine(Path.GetTempPath(), "prequelbot-bench-idle-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var database = "bench_idle_" + Guid.NewGuid().ToString("N")[..8];
            var env = new Dictionary<string, string>
            {
                ["Slack__SigningSecret"] = BenchSlack.Secret,
                ["Slack__BotToken"] = "xoxb-bench",
                ["Slack__ApiBaseUrl"] = slack.BaseUrl,
                ["Approvals__Approvers__0"] = BenchSlack.Approver,
                ["Databases__mydb__InstanceIdentifier"] = "mydb-prod",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
                ["Storage__Provider"] = storage == "postgres" ? "Postgres" : "Sqlite",
                ["Storage__ConnectionString"] = storage == "postgres" ? await BenchPostgres.CreateAsync(database) : $"Data Source={Path.Combine(directory, "state.db")}",
            };
            try
            {
                var health = new List<double>();
                var ready = new List<double>();
                for (var i = 1; i <= starts; i++)
                {
                    var last = i == starts;
                    using var host = await StartAsync(env, directory);
                    health.Add(host.HealthMs);
                    ready.Add(host.ReadyMs);
                    Stats.Say(string.Create(CultureInfo.InvariantCulture, $"{storage} start {i}: /healthz {host.HealthMs:0} ms, /readyz {host.ReadyMs:0} ms{(i == 1 ? " (fresh state: schema created)" : "")}"));
                    if (!last) continue;

                    await Task.Delay(idle);
                    var rss = VmRssKiB(host.Process.Id);
                    var backends = storage == "postgres" ? await BenchPostgres.BackendsAsync(database) : [];
                    var hostBefore = CpuTicks(host.Process.Id);
                    var pgBefore = backends.ToDictionary(pid => pid, CpuTicks);
                    var clock = Stopwatch.StartNew();
                    await Task.Delay(cpu);
                    var seconds = clock.Elapsed.TotalSeconds;
                    var hostCpu = (CpuTicks(host.Process.Id) - hostBefore) / TicksPerSecond / seconds * 100;
                    var later = storage == "postgres" ? await BenchPostgres.BackendsAsync(database) : [];
                    // Backends that lived through the window (a pooled connection may come and go; new ones count from 0).
                    var pgTicks = later.Sum(pid => CpuTicks(pid) - pgBefore.GetValueOrDefault(pid));
                    var pgCpu = pgTicks / TicksPerSecond / seconds * 100;
                    var pgText = storage == "postgres" ? string.Create(CultureInfo.InvariantCulture, $"{pgCpu:0.00} % ({backends.Count} → {later.Count} backends)") : "n/a";
                    rows.Add(string.Create(CultureInfo.InvariantCulture,
                        $"| {storage} | {Median(health.Skip(1)):0} ms (first {health[0]:0}) | {Median(ready.Skip(1)):0} ms (first {ready[0]:0}) | {rss / 1024.0:0.0} MiB after {idle.TotalSeconds:0} s idle | {hostCpu:0.00} % | {pgText} |"));
                }
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException)
            {
                Console.Error.WriteLine($"{storage}: {e.Message}");
                ok = false;
            }
            finally
            {
                if (storage == "postgres") await BenchPostgres.DropAsync(database);
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
            }
        }

        Console.WriteLine();
        Console.WriteLine($"PrequelBot idle cost and start-up: built host as its own process, {starts} starts each (median of the starts after the first; the first creates the schema), CPU over {cpu.TotalSeconds:0} s idle");
        Console.WriteLine($"load average at end: {Stats.LoadAverage()}");
        Console.WriteLine("| storage | Process.Start → /healthz 200 | → /readyz 200 | VmRSS | host CPU idle | PostgreSQL backends CPU idle |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        return ok && rows.Count > 0 ? 0 : 1;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : Stats.Percentile(sorted, 0.5);
    }

    private static long VmRssKiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    /// <summary>utime + stime of a process (and its finished children are not counted), in clock ticks; 0 when it is gone.</summary>
    internal static long CpuTicks(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static async Task<StartedHost> StartAsync(Dictionary<string, string> env, string workingDirectory)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "PrequelBot.Host.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var arg in new[] { dll, "--urls", "http://127.0.0.1:0" }) start.ArgumentList.Add(arg);
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        start.Environment["DOTNET_NOLOGO"] = "1";
        // Loopback only: with no Aws:Region the SDK's region chain would ask the EC2 instance metadata service.
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (key, value) in env) start.Environment[key] = value;
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            output.Enqueue(e.Data);
            if (ListeningOn().Match(e.Data) is { Success: true } m) listening.TrySetResult(new Uri(m.Groups["url"].Value));
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        var began = Stopwatch.GetTimestamp();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new StartedHost(process);
        try
        {
            var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(120));
            using var http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
            host.HealthMs = Stats.Ms(began, await FirstOkAsync(http, "/healthz", process));
            host.ReadyMs = Stats.Ms(began, await FirstOkAsync(http, "/readyz", process));
            return host;
        }
        catch
        {
            Console.Error.WriteLine(string.Join('\n', output.TakeLast(40)));
            host.Dispose();
            throw;
        }
    }

    /// <summary>Polls <paramref name="path"/> every 10 ms until it answers 200; returns the Stopwatch timestamp of that answer.</summary>
    private static async Task<long> FirstOkAsync(HttpClient http, string path, Process process)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (process.HasExited) throw new InvalidOperationException($"the host exited with {process.ExitCode} during start-up");
            try
            {
                using var response = await http.GetAsync(new Uri(path, UriKind.Relative));
                if (response.IsSuccessStatusCode) return Stopwatch.GetTimestamp();
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(10);
        }
        throw new TimeoutException($"{path} did not answer 200 within 120 s");
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();

    private sealed class StartedHost(Process process) : IDisposable
    {
        public Process Process { get; } = process;

        public double HealthMs { get; set; }

        public double ReadyMs { get; set; }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.WaitForExit(30_000);
            Process.Dispose();
        }
    }
}
