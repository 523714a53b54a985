using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Options;
using PrequelBot.Host;
using PrequelBot.Host.Access;
using PrequelBot.Workflows.Ports;

namespace Microsoft.AspNetCore.Builder;

/// <summary>The host's own pieces: the settings file, health endpoints, the dashboard, start-up checks.</summary>
public static class HostingExtensions
{
    /// <summary>
    /// Reads the root <c>appsettings.json</c> (README, first lines) when the content root has none (e.g. run from another
    /// directory or under a test host): the copy next to the binary, with the lowest precedence, so environment
    /// variables and <c>--Section:Key=value</c> still override it.
    /// </summary>
    public static WebApplicationBuilder AddPrequelSettingsFile(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (File.Exists(Path.Combine(builder.Environment.ContentRootPath, "appsettings.json"))) return builder;
        var copy = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        if (!File.Exists(copy)) return builder;
        var source = new JsonConfigurationSource { Path = copy, Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();
        builder.Configuration.Sources.Insert(0, source);
        return builder;
    }

    /// <summary>Largest request body Kestrel accepts on any route (its default is about 28.6 MB).</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>
    /// Caps every request body at <see cref="MaxRequestBodyBytes"/>: reading past it is a 413. Slack (64 KB) and Teams
    /// (512 KB) cap lower themselves; this covers the rest, e.g. the dashboard's form posts, which otherwise read up
    /// to Kestrel's default and fail with a 500 past the form reader's 4 MB value limit.
    /// </summary>
    public static WebApplicationBuilder LimitRequestBodies(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        return builder;
    }

    /// <summary><c>GET /healthz</c>: the process is up. <c>GET /readyz</c>: storage answers (else 503).</summary>
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok"));
        endpoints.MapGet("/readyz", Ready);
        return endpoints;
    }

    private static async Task<IResult> Ready(IStateStore store, CancellationToken cancellationToken) =>
        await store.PingAsync(cancellationToken).ConfigureAwait(false)
            ? TypedResults.Text("ready")
            : TypedResults.Text("storage unavailable", statusCode: StatusCodes.Status503ServiceUnavailable);

    /// <summary>
    /// The Hangfire dashboard at <c>/hangfire</c> behind <see cref="OperatorAccess"/> (docs/security.md, "Dashboard"): HTTP
    /// Basic when <c>Dashboard:Username</c>/<c>Password</c> are set (read-only unless <c>Dashboard:ReadOnly=false</c>),
    /// else direct loopback requests only. Refusals are answered before Hangfire sees the request.
    /// </summary>
    public static WebApplication MapOperatorDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var access = app.Services.GetRequiredService<OperatorAccess>();
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/hangfire", StringComparison.OrdinalIgnoreCase), branch =>
            branch.Use(async (context, next) =>
            {
                if (await access.AdmitAsync(context).ConfigureAwait(false)) await next(context).ConfigureAwait(false);
            }));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            // The same rule again inside Hangfire, so the dashboard is never served past it.
            Authorization = [new OperatorDashboardFilter(access)],
            IsReadOnlyFunc = context => access.Check(context.GetHttpContext()) != OperatorAccessDecision.Allowed,
            DisplayStorageConnectionString = false,
            AppPath = null,
            DashboardTitle = "PrequelBot jobs",
        });
        return app;
    }

    /// <summary>The thread-pool minimum with PostgreSQL storage; see <see cref="SizeThreadPool"/>.</summary>
    public const int PostgresMinWorkerThreads = 32;

    /// <summary>
    /// With PostgreSQL storage, raises the thread pool's minimum to <see cref="PostgresMinWorkerThreads"/> worker threads.
    /// Hangfire.PostgreSql enqueues synchronously, so every enqueue holds a pool thread for a PostgreSQL round trip, and
    /// beyond its minimum (one thread per core) the pool adds threads only slowly: in a burst of clicks and commands
    /// the clicks queued for seconds behind blocked threads (bench/README.md, "Scale"). Threads up to the minimum are
    /// created on demand, none while idle. The embedded store keeps the runtime's minimum: its enqueue and writes stay
    /// in this process, and a high minimum only keeps more threads busy at once, which costs CPU on a burst of requests
    /// (bench/README.md, "Against the limit").
    /// </summary>
    public static WebApplication SizeThreadPool(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Services.GetRequiredService<IOptions<PrequelBot.State.StorageOptions>>().Value.IsPostgres) return app;
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, PostgresMinWorkerThreads), io);
        return app;
    }

    /// <summary>
    /// Validates every setting before anything starts. A bad setting prints one line naming the key to standard
    /// error (no stack trace) and returns false; the caller exits with code 1.
    /// </summary>
    public static bool HasValidSettings(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
            return true;
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or FormatException or AggregateException)
        {
            Console.Error.WriteLine("PrequelBot cannot start: invalid setting: " + StartupErrors.OneLine(e));
            return false;
        }
    }
}

/// <summary>Hangfire's own authorization check, on <see cref="OperatorAccess"/>.</summary>
internal sealed class OperatorDashboardFilter(OperatorAccess access) : IDashboardAuthorizationFilter
{
    public bool Authorize(DashboardContext context) =>
        access.Check(context.GetHttpContext()) is OperatorAccessDecision.Allowed or OperatorAccessDecision.AllowedReadOnly;
}
