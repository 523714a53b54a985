using System.Diagnostics;
using System.Text.RegularExpressions;
using Hangfire;
using PrequelBot.Host.Access;
using Hangfire.Dashboard;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PrequelBot.Host.Telemetry;
using PrequelBot.Prequel;
using PrequelBot.Workflows.Telemetry;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// OpenTelemetry for the host (docs/operations.md, "Metrics and traces"): PrequelBot's own meter and activity source;
/// ASP.NET Core, HttpClient and Npgsql instrumentation only where it is exported; OTLP export when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; the optional Prometheus <c>/metrics</c>; the W3C trace context carried
/// into every Hangfire job; per-dependency call metrics for Slack, Teams, Prequel, RDS, EC2 and PostgreSQL; JSON
/// console logs with trace and span ids.
/// </summary>
public static partial class TelemetryExtensions
{
    public const string ServiceName = "prequelbot";
    public const string MetricsPath = "/metrics";

    /// <summary>Registers telemetry. Safe to call twice.</summary>
    public static WebApplicationBuilder AddPrequelTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(TelemetryMarker))) return builder;
        services.AddSingleton<TelemetryMarker>();

        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section)
            .Validate(o => o.NodeName is null || o.NodeName.Length == 0 || NodeNamePattern().IsMatch(o.NodeName.Trim()),
                "Telemetry:NodeName may hold only letters, digits, '.', '_' and '-' (at most 63).")
            .ValidateOnStart();
        // Settings a test host adds late are read from the options at run time; only OTLP (environment variables) is read here.
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

        // JSON logs are the built-in formatter (Logging:Console:FormatterName=json); scopes carry TraceId and SpanId.
        services.Configure<JsonConsoleFormatterOptions>(o => o.IncludeScopes = true);
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);

        // Every outgoing HTTP call of an adapter counts for its dependency (AWS clients do the same in PrequelBot.Aws).
        services.ConfigureAll<Microsoft.Extensions.Http.HttpClientFactoryOptions>(o => o.HttpMessageHandlerBuilderActions.Add(
            handlers => handlers.AdditionalHandlers.Insert(0, new DependencyMetricsHandler(DependencyOf(handlers.Name ?? "")))));
        services.AddHostedService<PostgresDependencyListener>();

        // Hangfire keeps its filters globally: the trace filter is added once per process.
        if (!GlobalJobFilters.Filters.Any(f => f.Instance is TraceContextJobFilter)) GlobalJobFilters.Filters.Add(new TraceContextJobFilter());

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddDetector(sp => new NodeResourceDetector(sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.EffectiveNodeName)))
            .WithTracing(t =>
            {
                t.AddSource(PrequelBotTelemetry.Name);
                // Spans go somewhere only with OTLP. Without it nothing is recorded (AlwaysOff still creates the
                // activities, so trace ids reach the logs and the Hangfire jobs) and requests, HTTP calls and PostgreSQL
                // commands are not instrumented at all: recording and enriching spans nobody exports cost about a fifth of
                // the CPU of a `status` (bench/README.md, "Against the limit"). A provider that adds an exporter of its own
                // adds the instrumentation and a sampler with it (AddPrequelInstrumentation).
                if (otlp) ExportSpansOverOtlp(t);
                else t.SetSampler(new AlwaysOffSampler());
            })
            .WithMetrics(m =>
            {
                m.AddMeter(PrequelBotTelemetry.Name, "Npgsql")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                if (otlp) ExportMetricsOverOtlp(m);
                // A pull reader: it collects only when /metrics is scraped, and /metrics is mapped only when enabled.
                m.AddPrometheusExporter();
                // The instruments of ASP.NET Core, HttpClient and Npgsql are measured only when metrics leave the process
                // (OTLP or /metrics; the setting is read when the provider is built, so a test host's late settings count):
                // otherwise every request would aggregate a histogram point that no one reads.
                if (!otlp && m is IDeferredMeterProviderBuilder deferred)
                {
                    deferred.Configure((sp, metrics) =>
                    {
                        if (sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.PrometheusEndpoint) return;
                        metrics.AddView(instrument => instrument.Meter.Name == PrequelBotTelemetry.Name ? null : MetricStreamConfiguration.Drop);
                    });
                }
            });
        return builder;
    }

    // The OTLP exporter is referenced only from these two methods, so its assembly (and its gRPC/protobuf code) is
    // loaded only when OTLP is on: a method's references are resolved when it is compiled, not when a branch runs.
    private static void ExportSpansOverOtlp(TracerProviderBuilder tracing) => tracing.AddPrequelInstrumentation().AddOtlpExporter();

    private static void ExportMetricsOverOtlp(MeterProviderBuilder metrics) => metrics.AddOtlpExporter();

    /// <summary>
    /// Spans for ASP.NET Core requests (not the probes or <c>/metrics</c>; the query string never reaches a span),
    /// outgoing HTTP calls (a <c>response_url</c> redacted) and Npgsql commands. The host adds them when spans are exported
    /// over OTLP; code that exports spans another way (an in-memory exporter in tests) adds them with its exporter.
    /// </summary>
    public static TracerProviderBuilder AddPrequelInstrumentation(this TracerProviderBuilder tracing)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        return tracing
            .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                context.Request.Path != "/healthz" && context.Request.Path != "/readyz" && context.Request.Path != MetricsPath)
            .AddHttpClientInstrumentation(o => o.EnrichWithHttpRequestMessage = RedactSecretUrl)
            .AddNpgsql();
    }

    /// <summary>
    /// Maps <c>GET /metrics</c> (Prometheus text format) when <c>Telemetry:PrometheusEndpoint</c> is on, behind the
    /// dashboard's access rule (<see cref="OperatorAccess"/>, docs/security.md "Dashboard"), and tags every request span with this node's name.
    /// </summary>
    public static WebApplication MapPrequelTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        var node = options.EffectiveNodeName;
        app.Use((context, next) =>
        {
            if (Activity.Current is { IsAllDataRequested: true } request) request.SetTag(PrequelBotTelemetry.Tags.Node, node);
            return next(context);
        });
        app.Services.GetRequiredService<OnboardingGauge>();
        if (options.PrometheusEndpoint)
        {
            var access = app.Services.GetRequiredService<OperatorAccess>();
            app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
            {
                // The dashboard's rule (docs/security.md, "Dashboard"): 401 with a Basic challenge, or 403 when not local.
                if (await access.AdmitAsync(context)) await next(context);
            }), optionsName: null);
        }

        return app;
    }

    /// <summary>A span of a request whose URL is a credential keeps only its scheme and host (query strings are redacted by the instrumentation).</summary>
    private static void RedactSecretUrl(Activity activity, HttpRequestMessage request)
    {
        if (request.RequestUri is not { } uri || !request.Options.TryGetValue(PrequelBot.Chat.Slack.SlackWebApiClient.SecretUrl, out var secret) || !secret) return;
        activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Authority) + "/REDACTED");
        activity.SetTag("url.path", null);
    }

    /// <summary>The <c>dependency</c> tag of a named HttpClient of an adapter.</summary>
    internal static string DependencyOf(string clientName) =>
        clientName.Contains("Slack", StringComparison.OrdinalIgnoreCase) ? PrequelBotTelemetry.Dependencies.Slack
        : clientName.Contains("Teams", StringComparison.OrdinalIgnoreCase) ? PrequelBotTelemetry.Dependencies.Teams
        : clientName == PrequelClient.HttpClientName || clientName.Contains("Prequel", StringComparison.OrdinalIgnoreCase) ? PrequelBotTelemetry.Dependencies.Prequel
        : "http";

    [GeneratedRegex("^[A-Za-z0-9._-]{1,63}$")]
    private static partial Regex NodeNamePattern();

    private sealed class TelemetryMarker;
}

/// <summary><c>service.name</c> = prequelbot and <c>service.instance.id</c> = <c>Telemetry:NodeName</c>.</summary>
internal sealed class NodeResourceDetector(string node) : IResourceDetector
{
    public Resource Detect() => new(new Dictionary<string, object>
    {
        ["service.name"] = TelemetryExtensions.ServiceName,
        ["service.instance.id"] = node,
    });
}

/// <summary>Counts PostgreSQL commands (Npgsql's own activities) in <c>prequelbot.dependency.calls</c>/<c>.duration</c> as <c>postgres</c>.</summary>
internal sealed class PostgresDependencyListener : IHostedService, IDisposable
{
    private ActivityListener? _listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            // Creates the activity (for its duration and status) without marking it recorded: exporters still sample.
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity => PrequelBotTelemetry.RecordDependency(
                PrequelBotTelemetry.Dependencies.Postgres, activity.Status != ActivityStatusCode.Error, activity.Duration),
        };
        ActivitySource.AddActivityListener(_listener);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _listener?.Dispose();
        _listener = null;
    }
}
