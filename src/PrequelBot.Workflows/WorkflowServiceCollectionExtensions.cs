using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Jobs;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace Microsoft.Extensions.DependencyInjection;

public static class WorkflowServiceCollectionExtensions
{
    /// <summary>
    /// Registers the onboarding workflow: options (Approvals, Databases, Workflow, Drift), the command handler, approvals, the
    /// step runner, the chat outbox, the reconciler, the drift watch and the Hangfire jobs (with the recurring drift sweep). Needs an <see cref="IStateStore"/>, an
    /// <see cref="ISecretStore"/> and Hangfire's <c>IBackgroundJobClient</c> (AddPrequelStorage), and one step handler
    /// per catalogue step (checked at start-up). Safe to call twice.
    /// </summary>
    public static IServiceCollection AddPrequelWorkflows(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        // Binding twice would append configured lists (approvers) twice: register once.
        if (services.Any(d => d.ServiceType == typeof(WorkflowsMarker))) return services;
        services.AddSingleton<WorkflowsMarker>();
        services.AddOptions<ApprovalOptions>().BindConfiguration(ApprovalOptions.Section).ValidateOnStart();
        services.AddOptions<WorkflowOptions>().BindConfiguration(WorkflowOptions.Section).ValidateOnStart();
        services.AddOptions<DatabasesOptions>()
            .Configure<IConfiguration>((options, configuration) =>
            {
                foreach (var entry in configuration.GetSection(DatabasesOptions.Section).GetChildren())
                    options.Entries[entry.Key] = entry.Get<DatabaseOptions>() ?? new DatabaseOptions();
            })
            .ValidateOnStart();
        services.AddOptions<DriftOptions>().BindConfiguration(DriftOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DriftOptions>, DriftOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApprovalOptions>, ApprovalOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WorkflowOptions>, WorkflowOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabasesOptions>, DatabasesOptionsValidator>());

        // The engine depends on the store by concern; one store implements them all.
        services.TryAddSingleton<IOnboardingStore>(sp => sp.GetRequiredService<IStateStore>());
        services.TryAddSingleton<IChatMessageStore>(sp => sp.GetRequiredService<IStateStore>());
        services.TryAddSingleton<ILeaseStore>(sp => sp.GetRequiredService<IStateStore>());
        services.TryAddSingleton<IDriftStore>(sp => sp.GetRequiredService<IStateStore>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ApprovalPolicy>();
        services.TryAddSingleton<OnboardingUpdater>();
        services.TryAddSingleton<StepHandlerRegistry>();
        services.TryAddSingleton<StepExecutor>();
        services.TryAddSingleton<StepRunner>();
        services.TryAddSingleton<OnboardingRequests>();
        services.TryAddSingleton<ConnectionRecords>();
        services.TryAddSingleton<ConnectionCheck>();
        services.TryAddSingleton<PlanPreview>();
        services.TryAddSingleton<ChatOutbox>();
        services.TryAddSingleton<Reconciler>();
        services.TryAddSingleton<DriftWatch>();
        services.TryAddSingleton<DriftNotices>();
        services.TryAddSingleton<IWorkScheduler, HangfireWorkScheduler>();
        services.TryAddSingleton<IChatCommandHandler, OnboardingCommands>();
        services.TryAddSingleton<IApprovalDecider, ApprovalService>();
        services.TryAddSingleton<PrequelBot.Workflows.Telemetry.OnboardingGauge>();
        services.TryAddTransient<StepJob>();
        services.TryAddTransient<ChatSyncJob>();
        services.TryAddTransient<DriftJob>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DriftSchedule>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StepHandlerCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ReconcilerService>());
        return services;
    }

    private sealed class WorkflowsMarker;
}
