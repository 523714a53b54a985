// Slack acknowledgement benchmark: the real PrequelBot host on Kestrel (127.0.0.1), fired at with signed
// `/prequel status` slash commands from concurrent clients. Prints p50/p90/p99/p99.9/max latency and requests/s.
// Loopback only; bounded by --count and a wall-clock limit. See bench/README.md.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
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
using PrequelBot.Testing;

namespace PrequelBot.Bench.SlackAck;

internal static class SlackAckBench
{
    public static async Task<int> Main(string[] args)
    {
        const string Secret = "bench-signing-secret-0123456789abcdef";
        var count = Option("--count", 100_000);
        var warmup = Option("--warmup", 20_000);
        var clients = Option("--clients", 32);
        var onboardings = Option("--onboardings", 10);
        var limit = TimeSpan.FromSeconds(Option("--max-seconds", 300));
        var rate = Option("--rate", 0); // > 0: open loop at this many requests/s (latency at a fixed load), else closed loop
        if (Text("--client") is { } target)
        {
            // The load-generating side, started by the host side below as a process of its own.
            using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false }) { BaseAddress = new Uri(target) };
            return await LoadAsync(client);
        }

        if (Option("--compare", 0) is > 0 and var rounds)
        {
            // Target 1 of issue #18 as one printed ratio: the reference and the bot alternately, each in a fresh process
            // with the same arguments (neither inherits the other's JIT, heap or thread pool), the server on core 0 and its
            // clients on core 1; the median ratio is the figure.
            return await CompareAsync(rounds, args.Where((_, i) => i != Array.IndexOf(args, "--compare") && i != Array.IndexOf(args, "--compare") + 1).ToArray());
        }

        if (args.Contains("--reference"))
        {
            // The limit for this work: bare Kestrel that verifies Slack's signature and acks, nothing else.
            await using var reference = await ReferenceAck.StartAsync(Secret);
            Console.WriteLine($"Reference (bare Kestrel, verify signature + ack): {reference.Address}, {clients} clients, warm-up {warmup}, measured {count}{(rate > 0 ? $", open loop at {rate} req/s" : "")}");
            return args.Contains("--same-process")
                ? await LoadAsync(new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false }) { BaseAddress = reference.Address })
                : await LoadFromAnotherProcessAsync(reference.Address);
        }

        // Loopback only: with no Aws:Region the SDK's region chain would ask the EC2 instance metadata service.
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
        var directory = Path.Combine(Path.GetTempPath(), "prequelbot-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await using var slack = await FakeSlack.StartAsync();

        var settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Sqlite",
            ["Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "state.db")}",
            ["Slack:SigningSecret"] = Secret,
            ["Slack:BotToken"] = "xoxb-bench",
            ["Slack:ApiBaseUrl"] = slack.BaseUrl,
            ["Approvals:Approvers:0"] = "UAPPROVER",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        for (var i = 1; i <= onboardings; i++)
        {
            settings[$"Databases:db{i:D2}:InstanceIdentifier"] = $"db{i:D2}-prod";
            settings[$"Databases:db{i:D2}:AdminConnectionString"] = "Host=db.internal;Username=admin;Password=x";
        }

        // A console app has no test manifest: point WebApplicationFactory at this output folder (settings file included).
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_PREQUELBOT_HOST", AppContext.BaseDirectory);
        var world = new FakeInfrastructure();
        await using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment("Production");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
            builder.ConfigureTestServices(services =>
            {
                services.ReplaceStepHandlers(world.Handlers());
            });
        });
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        if (!IPAddress.IsLoopback(IPAddress.Parse(address.Host))) throw new InvalidOperationException($"Refusing a non-loopback address {address}.");

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false }) { BaseAddress = address };

        // Active onboardings make `status` do its real work (list, then each onboarding's current step).
        for (var i = 1; i <= onboardings; i++)
        {
            var reply = await SendAsync(http, $"connect db{i:D2}", "UREQUESTER");
            // On a busy machine the reply may come later through response_url; the wait below checks the outcome.
            if (!reply.Contains("Started onboarding", StringComparison.Ordinal) && !reply.Contains("Working on it", StringComparison.Ordinal)) throw new InvalidOperationException("Seeding failed: " + reply);
        }

        Console.WriteLine($"PrequelBot Slack ack bench: host {address}, {clients} clients, {onboardings} active onboardings, warm-up {warmup}, measured {count}{(rate > 0 ? $", open loop at {rate} req/s" : "")}");
        var started = Stopwatch.StartNew();
        while (true)
        {
            var status = await SendAsync(http, "status", "UREQUESTER");
            if (status.Split("awaiting-approval").Length - 1 >= onboardings) break;
            if (started.Elapsed > TimeSpan.FromSeconds(60)) throw new InvalidOperationException("Seeded onboardings did not reach awaiting-approval: " + status);
            await Task.Delay(100);
        }

        // By default the clients run in a process of their own (as Slack does not run inside the bot): their
        // allocations and garbage collections then do not pause the host's threads. --same-process keeps them here.
        var exit = args.Contains("--same-process") ? await LoadAsync(http) : await LoadFromAnotherProcessAsync(address);
        Console.WriteLine($"Slack Web API calls during the run (cards, prompts): {slack.Calls}");

        await factory.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(directory, recursive: true); } catch (IOException) { }
        return exit;

        async Task<int> LoadAsync(HttpClient target)
        {
            using var stop = new CancellationTokenSource(limit);
            await RunAsync(target, warmup, clients, 0, stop.Token);
            var result = await RunAsync(target, count, clients, rate, stop.Token);
            Array.Sort(result.Latencies);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"requests {result.Latencies.Length} in {result.Elapsed.TotalSeconds:0.00} s = {result.Latencies.Length / result.Elapsed.TotalSeconds:0} req/s; non-200 or unexpected bodies: {result.Failures}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"latency ms: p50 {Percentile(result.Latencies, 0.50):0.00}  p90 {Percentile(result.Latencies, 0.90):0.00}  p99 {Percentile(result.Latencies, 0.99):0.00}  p99.9 {Percentile(result.Latencies, 0.999):0.00}  max {result.Latencies[^1]:0.00}"));
            return result.Failures == 0 && result.Latencies.Length == count ? 0 : 1;
        }

        async Task<int> LoadFromAnotherProcessAsync(Uri target)
        {
            // --pin: this (server) process runs on core 0 (the caller started it so) and the clients on core 1.
            var pin = args.Contains("--pin");
            var start = new ProcessStartInfo(pin ? "taskset" : Environment.ProcessPath!) { UseShellExecute = false };
            if (pin) foreach (var arg in new[] { "-c", "1", Environment.ProcessPath! }) start.ArgumentList.Add(arg);
            foreach (var arg in new[] { typeof(SlackAckBench).Assembly.Location, "--client", target.ToString(), "--count", $"{count}", "--warmup", $"{warmup}", "--clients", $"{clients}", "--max-seconds", $"{(int)limit.TotalSeconds}", "--rate", $"{rate}" })
                start.ArgumentList.Add(arg);
            // The server's CPU per request: unlike req/s, barely moved by the machine's other work (warm-up included).
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            using var sampler = args.Contains("--alloc-types") ? new AllocationSampler() : null;
            sampler?.Start();
            var allocated = GC.GetTotalAllocatedBytes(precise: false);
            var collections = GC.CollectionCount(0);
            var workItems = ThreadPool.CompletedWorkItemCount;
            var contentions = Monitor.LockContentionCount;
            using var client = Process.Start(start)!;
            using var stop = new CancellationTokenSource(limit + TimeSpan.FromSeconds(30));
            try
            {
                await client.WaitForExitAsync(stop.Token);
                var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"server CPU: {used.TotalSeconds:0.00} s for {warmup + count} requests = {used.TotalMicroseconds / (warmup + count):0.0} µs/request (warm-up included)"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"server allocations: {(GC.GetTotalAllocatedBytes(precise: false) - allocated) / (double)(warmup + count):0} B/request, {GC.CollectionCount(0) - collections} gen-0 collections"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"server thread pool: {(ThreadPool.CompletedWorkItemCount - workItems) / (double)(warmup + count):0.00} work items/request, {ThreadPool.ThreadCount} threads, {(Monitor.LockContentionCount - contentions) / (double)(warmup + count):0.000} lock contentions/request"));
                sampler?.Print(warmup + count);
            }
            catch (OperationCanceledException)
            {
                client.Kill(entireProcessTree: true);
                Console.WriteLine("The client process did not finish in time.");
                return 1;
            }
            return client.ExitCode;
        }

        static async Task<int> CompareAsync(int rounds, string[] rest)
        {
            var throughput = new List<double>();
            var tail = new List<double>();
            for (var round = 1; round <= rounds; round++)
            {
                var reference = await ChildAsync(["--reference", .. rest]);
                var bot = await ChildAsync(rest);
                if (reference is null || bot is null) return 1;
                throughput.Add(bot.Value.RequestsPerSecond / reference.Value.RequestsPerSecond);
                tail.Add(bot.Value.P99 / reference.Value.P99);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round}: reference {reference.Value.RequestsPerSecond:0} req/s, p99 {reference.Value.P99:0.00} ms, {reference.Value.CpuMicroseconds:0.0} µs CPU; status {bot.Value.RequestsPerSecond:0} req/s, p99 {bot.Value.P99:0.00} ms, {bot.Value.CpuMicroseconds:0.0} µs CPU: {100 * throughput[^1]:0} % of the req/s, {tail[^1]:0.00}× the p99"));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"status / reference over {rounds} rounds: req/s median {100 * Median(throughput):0} % (min {100 * throughput.Min():0} %, max {100 * throughput.Max():0} %; target >= 80 % closed loop), p99 median {Median(tail):0.00}× (target <= 1.5× at 100 req/s)"));
            return 0;

            static double Median(List<double> values)
            {
                var sorted = values.Order().ToList();
                return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
            }
        }

        static async Task<(double RequestsPerSecond, double P99, double CpuMicroseconds)?> ChildAsync(string[] childArgs)
        {
            // As the issue measured it: the server pinned to one core, its load on the other (taskset, Linux).
            var start = new ProcessStartInfo("taskset") { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-c", "0", Environment.ProcessPath!, typeof(SlackAckBench).Assembly.Location, "--pin" }) start.ArgumentList.Add(arg);
            foreach (var arg in childArgs) start.ArgumentList.Add(arg);
            using var child = Process.Start(start)!;
            var output = await child.StandardOutput.ReadToEndAsync();
            await child.WaitForExitAsync();
            var rps = System.Text.RegularExpressions.Regex.Match(output, @"= (\d+) req/s");
            var p99 = System.Text.RegularExpressions.Regex.Match(output, @" p99 ([\d.]+)");
            var cpu = System.Text.RegularExpressions.Regex.Match(output, @"= ([\d.]+) µs/request");
            if (child.ExitCode == 0 && rps.Success && p99.Success && cpu.Success)
                return (double.Parse(rps.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(cpu.Groups[1].Value, CultureInfo.InvariantCulture));
            Console.WriteLine($"A run failed (exit {child.ExitCode}):\n{output}");
            return null;
        }

        static async Task<Run> RunAsync(HttpClient http, int total, int clients, int rate, CancellationToken cancellationToken)
        {
            var latencies = new double[total];
            var next = -1;
            var failures = 0;
            var clock = Stopwatch.StartNew();
            var origin = Stopwatch.GetTimestamp();
            var workers = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < total && !cancellationToken.IsCancellationRequested)
                {
                    if (rate > 0)
                    {
                        // Open loop: request i is due at i / rate seconds; latency counts from when it was due.
                        var due = origin + (long)(i * (double)Stopwatch.Frequency / rate);
                        var ahead = due - Stopwatch.GetTimestamp();
                        if (ahead > 0) await Task.Delay(TimeSpan.FromSeconds((double)ahead / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
                    }
                    var start = rate > 0 ? origin + (long)(i * (double)Stopwatch.Frequency / rate) : Stopwatch.GetTimestamp();
                    string reply;
                    try
                    {
                        reply = await SendAsync(http, "status", "UREQUESTER", cancellationToken);
                    }
                    catch (HttpRequestException)
                    {
                        reply = "";
                    }
                    latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    if (!reply.Contains("\"response_type\":\"ephemeral\"", StringComparison.Ordinal) || !reply.Contains("nboardings", StringComparison.Ordinal))
                        Interlocked.Increment(ref failures);
                }
            }, CancellationToken.None)).ToArray();
            await Task.WhenAll(workers);
            var done = Math.Min(total, next);
            if (done < total) Console.WriteLine($"Stopped by the time limit after {done} requests.");
            return new Run(latencies[..done], clock.Elapsed, failures);
        }

        static async Task<string> SendAsync(HttpClient http, string text, string user, CancellationToken cancellationToken = default)
        {
            var body = string.Join('&',
                "team_id=T0BENCH", "channel_id=C0BENCH", "user_id=" + user, "command=%2Fprequel",
                "text=" + WebUtility.UrlEncode(text), "api_app_id=A0BENCH", "response_url=" + WebUtility.UrlEncode("https://hooks.slack.com/commands/T0BENCH/1/x"));
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}"));
            using var request = new HttpRequestMessage(HttpMethod.Post, "/slack/commands") { Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded") };
            request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
            request.Headers.Add("X-Slack-Signature", "v0=" + Convert.ToHexStringLower(mac));
            using var response = await http.SendAsync(request, cancellationToken);
            var content = await response.Content.ReadAsStringAsync(cancellationToken);
            return response.StatusCode == HttpStatusCode.OK ? content : $"HTTP {(int)response.StatusCode}";
        }

        static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

        string? Text(string name)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        int Option(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
        }
    }
}

internal sealed record Run(double[] Latencies, TimeSpan Elapsed, int Failures);

/// <summary>
/// The reference: a bare Kestrel endpoint on 127.0.0.1 that does what any Slack app must (read the body, check the
/// timestamp window and the v0 HMAC signature) and answers a fixed ephemeral ack. No DI beyond the slim builder, no state.
/// </summary>
internal sealed class ReferenceAck : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ReferenceAck(WebApplication app, Uri address) => (_app, Address) = (app, address);

    public Uri Address { get; }

    public static async Task<ReferenceAck> StartAsync(string secret)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        var ack = Encoding.UTF8.GetBytes("{\"response_type\":\"ephemeral\",\"text\":\"No onboardings yet.\"}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/slack/commands", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var timestamp = context.Request.Headers["X-Slack-Request-Timestamp"].ToString();
            var signature = context.Request.Headers["X-Slack-Signature"].ToString();
            if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
                || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - seconds) > 300 || !signature.StartsWith("v0=", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 401;
                return;
            }
            var basestring = Encoding.UTF8.GetBytes($"v0:{timestamp}:").Concat(body).ToArray();
            var expected = HMACSHA256.HashData(key, basestring);
            if (!CryptographicOperations.FixedTimeEquals(expected, Convert.FromHexString(signature.AsSpan(3))))
            {
                context.Response.StatusCode = 401;
                return;
            }
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.Body.WriteAsync(ack);
        });
        await app.StartAsync();
        return new ReferenceAck(app, new Uri(app.Urls.First()));
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}

/// <summary>Answers the bot's chat.postMessage/chat.update calls on 127.0.0.1 so seeded cards have somewhere to go.</summary>
internal sealed class FakeSlack : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _calls;

    private FakeSlack(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    public int Calls => _calls;

    public static async Task<FakeSlack> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSlack(app);
        app.MapPost("/api/{method}", async (HttpContext context) =>
        {
            var n = Interlocked.Increment(ref fake._calls);
            var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
            var ts = body?["ts"]?.GetValue<string>() ?? string.Create(CultureInfo.InvariantCulture, $"1700000000.{n:D6}");
            context.Response.ContentType = "application/json; charset=utf-8";
            await context.Response.WriteAsync(new JsonObject { ["ok"] = true, ["channel"] = body?["channel"]?.DeepClone(), ["ts"] = ts, ["message_ts"] = ts }.ToJsonString());
        });
        await app.StartAsync();
        fake.BaseUrl = app.Urls.First().TrimEnd('/') + "/api/";
        return fake;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
