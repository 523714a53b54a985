using Hangfire;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PrequelBot.Host;
using PrequelBot.Host.Access;
using PrequelBot.Workflows.Jobs;
using PrequelBot.Workflows.Options;

namespace Microsoft.Extensions.DependencyInjection;

public static class HostServiceCollectionExtensions
{
    /// <summary>Registers the start-up report (one line per integration). Safe to call twice.</summary>
    public static IServiceCollection AddStartupReport(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StartupReport>());
        return services;
    }

    /// <summary>
    /// Registers <see cref="StartupMemoryRelease"/> (a full GC and glibc's heap trim once start-up has settled) when this
    /// process is the host itself; a process that hosts it, such as a test runner, keeps its memory to itself. Safe to
    /// call twice.
    /// </summary>
    public static IServiceCollection AddStartupMemoryRelease(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (StartupMemoryRelease.IsThisProcess)
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StartupMemoryRelease>());
        return services;
    }

    /// <summary>
    /// Registers <see cref="OperatorAccess"/> and its options (section <c>Dashboard</c>, validated at start-up): the rule
    /// for the dashboard and any other operator page. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddOperatorAccess(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<DashboardAccessOptions>().BindConfiguration(DashboardAccessOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DashboardAccessOptions>, DashboardAccessOptionsValidator>());
        services.TryAddSingleton<OperatorAccess>();
        return services;
    }

    /// <summary>
    /// This process's three Hangfire servers: one only for approved steps (clicks start at once), one for scheduled
    /// re-checks and back-offs (many waiting onboardings never hold up new work), one for everything else. Only the last
    /// runs the delayed and recurring job schedulers and the storage's own maintenance; the other two are Hangfire
    /// "lightweight" servers, workers only (docs/architecture.md, "Running a step"). Needs the Hangfire storage
    /// (AddPrequelStorage). Safe to call twice.
    /// </summary>
    public static IServiceCollection AddPrequelJobServers(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(JobServersMarker))) return services;
        services.AddSingleton<JobServersMarker>();
        AddServer(services, "approvals", [JobQueues.Approvals], workflow => workflow.ApprovalWorkers, workersOnly: true);
        AddServer(services, "rechecks", [JobQueues.Rechecks], workflow => workflow.RecheckWorkers, workersOnly: true);
        AddServer(services, "work", [JobQueues.Steps, JobQueues.Chat, "default"], workflow => workflow.Workers, workersOnly: false);
        return services;
    }

    /// <summary>
    /// One Hangfire server of this process, named <c>{node}:{pid}:{role}</c> (node: <c>Telemetry:NodeName</c>, default the
    /// machine name), serving <paramref name="queues"/>. With <paramref name="workersOnly"/> it runs no schedulers and no
    /// storage maintenance: one copy of each per process is enough, since each is safe to run on any number of nodes.
    /// </summary>
    private static void AddServer(IServiceCollection services, string role, string[] queues, Func<WorkflowOptions, int> workers, bool workersOnly) =>
        services.AddHangfireServer((sp, server) =>
        {
            // The node name leads: the trace filter reads it back from the server id (docs/operations.md).
            var node = sp.GetService<IOptions<PrequelBot.Host.Telemetry.TelemetryOptions>>()?.Value.EffectiveNodeName ?? Environment.MachineName;
            server.ServerName = $"{node}:{Environment.ProcessId}:{role}";
            server.Queues = queues;
            server.WorkerCount = workers(sp.GetRequiredService<IOptions<WorkflowOptions>>().Value);
            server.SchedulePollingInterval = TimeSpan.FromSeconds(1);
            server.IsLightweightServer = workersOnly;
        });

    private sealed class JobServersMarker;
}
