using System.Diagnostics;
using System.Net;
using Hangfire;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Telemetry;
using Xunit.Abstractions;

namespace PrequelBot.Host.Tests;

/// <summary>
/// Metrics and traces of the real host, read through OpenTelemetry's in-memory exporter (docs/operations.md): every
/// PrequelBot meter with its tags after an onboarding, <c>/metrics</c> in Prometheus text behind the dashboard rule, and
/// one trace that starts with a Slack command on one node and continues in a step job on another.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class TelemetryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-telemetry-" + Guid.NewGuid().ToString("N"));
    private readonly string _database = TestEnvironment.UniqueName("telemetry");
    private bool _usedPostgres;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_usedPostgres) await BotHost.DropPostgresAsync(_database);
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private async Task<Dictionary<string, string?>> PostgresAsync()
    {
        _usedPostgres = true;
        return await BotHost.PostgresAsync(_database);
    }

    [Fact]
    public async Task After_an_onboarding_every_meter_reports_with_its_low_cardinality_tags()
    {
        await using var world = await RealWorld.CreateAsync();
        var metrics = new List<MetricSnapshot>();
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        await using var host = new BotHost(world.Settings(await PostgresAsync()), world: null, chat,
            s => s.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(metrics)));

        var id = (await host.SayAsync(world.ConnectCommand)).StartedOnboardingId!;
        await RealWorld.ApproveUntilCompletedAsync(host, chat, id);
        await host.Services.GetRequiredService<OnboardingGauge>().RefreshAsync(CancellationToken.None);
        await BotHost.EventuallyAsync(() => Task.FromResult(
                Flush(host.Services, metrics) && Points(metrics, "prequelbot.chat.outbox.lag").Any(p => Tag(p, "platform") == BotHost.TestPlatform)),
            "the chat outbox has reported its lag");

        var onboardings = Points(metrics, "prequelbot.onboardings").Single(p => Tag(p, "kind") == "connect" && Tag(p, "state") == "completed");
        Assert.Equal(1, onboardings.GetGaugeLastValueLong());
        foreach (var step in new[] { StepNames.Discover, StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.VerifyAccess, StepNames.RegisterSource })
            Assert.Contains(Points(metrics, "prequelbot.step.duration"), p => Tag(p, "step") == step && Tag(p, "outcome") == "completed" && p.GetHistogramCount() >= 1);
        foreach (var step in new[] { StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource })
            Assert.Contains(Points(metrics, "prequelbot.approval.wait"), p => Tag(p, "step") == step && p.GetHistogramCount() == 1);
        foreach (var dependency in new[] { "rds", "ec2", "prequel", "postgres" })
        {
            Assert.Contains(Points(metrics, "prequelbot.dependency.calls"), p => Tag(p, "dependency") == dependency && Tag(p, "outcome") == "success" && p.GetSumLong() > 0);
            Assert.Contains(Points(metrics, "prequelbot.dependency.duration"), p => Tag(p, "dependency") == dependency && p.GetHistogramCount() > 0);
        }

        // Metrics stay in this process (no OTLP, no /metrics): only PrequelBot's own instruments are measured, not those
        // of HttpClient (the calls to Prequel and AWS above), ASP.NET Core or Npgsql (the state store's commands).
        lock (metrics) Assert.All(metrics, m => Assert.StartsWith("prequelbot.", m.Name, StringComparison.Ordinal));

        // Low cardinality: no onboarding id, no password, no URL in any tag of any PrequelBot metric.
        var password = world.Prequel.PostedPassword()!;
        foreach (var point in metrics.Where(m => m.Name.StartsWith("prequelbot.", StringComparison.Ordinal)).SelectMany(m => m.MetricPoints))
            foreach (var tag in point.Tags)
            {
                var value = tag.Value?.ToString() ?? "";
                Assert.DoesNotContain(id, value, StringComparison.Ordinal);
                Assert.DoesNotContain(password, value, StringComparison.Ordinal);
                Assert.DoesNotContain("://", value, StringComparison.Ordinal);
            }
    }

    [Fact]
    public async Task Over_socket_mode_the_slack_calls_and_chat_lag_are_measured_and_metrics_answers_in_prometheus_text_to_loopback_only()
    {
        var metrics = new List<MetricSnapshot>();
        await using var host = await SlackBotHost.StartAsync(_directory, socketMode: true,
            settings: new Dictionary<string, string?> { ["Telemetry:PrometheusEndpoint"] = "true" },
            services: s => s.ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(metrics)));
        await host.Slack.WaitForSocketConnectionsAsync(2);

        await host.CommandOverSocketAsync("connect mydb");
        var prompt = await host.PendingPromptAsync(StepNames.PublicAccess);
        await host.ClickOverSocketAsync(prompt, "Approve");
        await host.PendingPromptAsync(StepNames.SecurityGroup);
        await BotHost.EventuallyAsync(() => Task.FromResult(
                Flush(host.Services, metrics) && Points(metrics, "prequelbot.chat.outbox.lag").Any(p => Tag(p, "platform") == "slack")),
            "the chat outbox has reported its lag to Slack");

        Assert.Contains(Points(metrics, "prequelbot.dependency.calls"), p => Tag(p, "dependency") == "slack" && Tag(p, "outcome") == "success" && p.GetSumLong() > 0);
        Assert.Contains(Points(metrics, "prequelbot.approval.wait"), p => Tag(p, "step") == StepNames.PublicAccess);

        var scrape = await host.GetFromAsync("/metrics", IPAddress.Loopback);
        Assert.Equal(StatusCodes.Status200OK, scrape.Response.StatusCode);
        Assert.StartsWith("text/plain", scrape.Response.ContentType, StringComparison.Ordinal);
        using var reader = new StreamReader(scrape.Response.Body);
        var text = await reader.ReadToEndAsync();
        Assert.Contains("# TYPE prequelbot_dependency_calls_total counter", text, StringComparison.Ordinal);
        Assert.Matches("(?m)^prequelbot_dependency_calls_total\\{[^}]*dependency=\"slack\"[^}]*outcome=\"success\"[^}]*\\} [1-9]", text);
        Assert.Contains("prequelbot_step_duration_seconds_bucket", text, StringComparison.Ordinal);
        // With /metrics on, the instruments of HttpClient (the calls to Slack) are measured too.
        Assert.Contains("http_client_request_duration_seconds_bucket", text, StringComparison.Ordinal);
        lock (metrics) Assert.Contains(metrics, m => m.Name == "http.client.request.duration");

        // The dashboard's rule (OperatorAccess): no credentials configured and not a direct local request → 403.
        var outsider = await host.GetFromAsync("/metrics", IPAddress.Parse("203.0.113.7"));
        Assert.Equal(StatusCodes.Status403Forbidden, outsider.Response.StatusCode);
    }

    [Fact]
    public async Task A_step_job_on_node_b_continues_the_trace_of_the_slack_command_received_on_node_a()
    {
        var storage = await PostgresAsync();
        var spans = new List<Activity>();
        var shared = new Dictionary<string, string?>(storage);
        await using var nodeB = await SlackBotHost.StartAsync(Path.Combine(_directory, "b"),
            settings: new Dictionary<string, string?>(shared) { ["Telemetry:NodeName"] = "node-b" },
            services: s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddPrequelInstrumentation().AddInMemoryExporter(spans).SetSampler(new AlwaysOnSampler())));
        // Node A only takes requests: its Hangfire servers are removed, so every job runs on node B.
        await using var nodeA = await SlackBotHost.StartAsync(Path.Combine(_directory, "a"),
            settings: new Dictionary<string, string?>(shared) { ["Telemetry:NodeName"] = "node-a" },
            services: RemoveJobServers);

        var (status, reply) = await nodeA.CommandAsync("connect mydb");
        Assert.Equal(HttpStatusCode.OK, status);
        var id = System.Text.RegularExpressions.Regex.Match(reply?["text"]?.GetValue<string>() ?? "", "ob-[a-z0-9]{4,12}").Value;
        Activity? request = null, step = null;
        var synced = false;
        await BotHost.EventuallyAsync(() =>
        {
            lock (spans)
            {
                request = spans.LastOrDefault(s => s.DisplayName == "POST /slack/commands");
                step = spans.FirstOrDefault(s => s.DisplayName == "step discover" && (s.GetTagItem(PrequelBotTelemetry.Tags.OnboardingId) as string) == id);
                synced = request is not null && spans.Any(s => s.DisplayName == "chat sync" && s.TraceId == request.TraceId);
            }
            return Task.FromResult(request is not null && step is not null && synced);
        }, "the command's request span, the discover step's span and the chat sync it started are exported", TimeSpan.FromSeconds(60));

        Assert.Equal("node-a", request!.GetTagItem(PrequelBotTelemetry.Tags.Node));
        Assert.Equal("node-b", step!.GetTagItem(PrequelBotTelemetry.Tags.Node));
        Assert.Equal(request.TraceId, step.TraceId);
        Assert.Equal(StepNames.Discover, step.GetTagItem(PrequelBotTelemetry.Tags.Step));
        Assert.Equal(ActivityKind.Consumer, step.Kind);

        List<Activity> trace;
        lock (spans) trace = [.. spans.Where(s => s.TraceId == request.TraceId).OrderBy(s => s.StartTimeUtc)];
        output.WriteLine($"{trace.Count} spans in trace {request.TraceId}, {trace.Count(s => s.DisplayName == "postgresql")} of them PostgreSQL commands (not shown):");
        foreach (var span in trace.Where(s => s.DisplayName != "postgresql"))
            output.WriteLine($"{span.StartTimeUtc:HH:mm:ss.fff} trace={span.TraceId} span={span.SpanId} parent={span.ParentSpanId} {span.Kind,-8} node={span.GetTagItem(PrequelBotTelemetry.Tags.Node) ?? "-"} {span.DisplayName} {span.Duration.TotalMilliseconds:0.0} ms onboarding={span.GetTagItem(PrequelBotTelemetry.Tags.OnboardingId) ?? "-"}");
        Assert.Contains(trace, s => s.DisplayName == "chat sync" && (string?)s.GetTagItem(PrequelBotTelemetry.Tags.Node) == "node-b");
    }

    [Fact]
    public async Task Without_an_exporter_of_its_own_no_span_is_recorded_yet_the_step_job_still_continues_the_request_trace()
    {
        // No OTLP endpoint: the host's sampler records nothing. The in-memory exporter added here sets no sampler of
        // its own, so it must receive no span at all; the activities still exist and carry the trace into the job.
        var spans = new List<Activity>();
        var jobs = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PrequelBotTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            ActivityStopped = activity => { lock (jobs) jobs.Add(activity); },
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await SlackBotHost.StartAsync(_directory,
            services: s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans)));

        var (status, reply) = await host.CommandAsync("connect mydb");
        Assert.Equal(HttpStatusCode.OK, status);
        var id = System.Text.RegularExpressions.Regex.Match(reply?["text"]?.GetValue<string>() ?? "", "ob-[a-z0-9]{4,12}").Value;
        Activity? discover = null;
        await BotHost.EventuallyAsync(() =>
        {
            lock (jobs) discover = jobs.FirstOrDefault(a => a.OperationName == "step discover" && (a.GetTagItem(PrequelBotTelemetry.Tags.OnboardingId) as string) == id);
            return Task.FromResult(discover is not null);
        }, "the discover step's activity stopped", TimeSpan.FromSeconds(60));

        Assert.False(discover!.Recorded);
        Assert.NotEqual(default, discover.ParentSpanId);
        Assert.True(discover.HasRemoteParent);
        lock (spans) Assert.Empty(spans);
    }

    /// <summary>Removes this host's Hangfire servers (registered by <c>AddHangfireServer</c> as hosted-service factories).</summary>
    private static void RemoveJobServers(IServiceCollection services)
    {
        var servers = services.Where(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)
                                          && d.ImplementationFactory?.Method.ReturnType == typeof(BackgroundJobServerHostedService)).ToList();
        Assert.Equal(3, servers.Count);
        foreach (var server in servers) services.Remove(server);
    }

    private static bool Flush(IServiceProvider services, List<MetricSnapshot> metrics)
    {
        lock (metrics) metrics.Clear();
        // The result is false whenever the Prometheus reader (pull-only) had no scrape to answer; the in-memory reader still ran.
        services.GetRequiredService<MeterProvider>().ForceFlush(10_000);
        return true;
    }

    private static List<MetricPoint> Points(List<MetricSnapshot> metrics, string name)
    {
        lock (metrics) return [.. metrics.Where(m => m.Name == name).SelectMany(m => m.MetricPoints)];
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
            if (tag.Key == key) return tag.Value?.ToString();
        return null;
    }
}
