using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using PrequelBot.State;
using PrequelBot.Workflows.Ports;

namespace Microsoft.Extensions.DependencyInjection;

public static class StorageServiceCollectionExtensions
{
    /// <summary>
    /// How long Hangfire keeps succeeded and deleted jobs: dashboard history only, the audit trail is the record. Each
    /// waiting onboarding leaves one finished re-check job per back-off interval, about 3.7 KB each in memory
    /// (bench/README.md), so with Hangfire's default of a day 1,000 waiting onboardings would hold gigabytes.
    /// </summary>
    public static readonly TimeSpan FinishedJobRetention = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Registers the state store, the secret store (<see cref="SecretsServiceCollectionExtensions.AddPrequelSecrets"/>) and
    /// Hangfire's storage for <c>Storage:Provider</c>: SQLite + Hangfire.InMemory (one node) or PostgreSQL +
    /// Hangfire.PostgreSql (several nodes; long polling on, short invisibility timeout). The host adds the Hangfire
    /// servers. Call before any other hosted service that needs the schema. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddPrequelStorage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(StorageMarker))) return services;
        services.AddSingleton<StorageMarker>();

        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());

        services.TryAddSingleton(sp => NpgsqlDataSource.Create(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString));
        services.TryAddSingleton<IStateStore>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return o.IsPostgres
                ? new PostgresStateStore(sp.GetRequiredService<NpgsqlDataSource>())
                : new SqliteStateStore(o.ConnectionString);
        });
        services.TryAddSingleton(sp =>
        {
            var postgres = sp.GetRequiredService<IOptions<StorageOptions>>().Value.IsPostgres;
            return new StorageTopology(SingleNode: !postgres, VolatileJobQueue: !postgres);
        });
        services.AddHostedService<StorageInitializer>();

        services.AddHangfire((sp, config) =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
                .UseSimpleAssemblyNameTypeSerializer()
                .UseRecommendedSerializerSettings();
            if (o.IsPostgres)
            {
                config.UsePostgreSqlStorage(
                    c => c.UseNpgsqlConnection(o.ConnectionString),
                    new PostgreSqlStorageOptions
                    {
                        // Cross-process pick-up by LISTEN/NOTIFY instead of 15 s polling (docs/architecture.md, "Jobs").
                        EnableLongPolling = true,
                        QueuePollInterval = TimeSpan.FromSeconds(5),
                        // A crashed node's job is re-fetched after this; a step running longer keeps its own lease (renewed by its
                        // heartbeat), so a re-fetched job finds it held and does nothing.
                        InvisibilityTimeout = TimeSpan.FromMinutes(5),
                        PrepareSchemaIfNecessary = true,
                        SchemaName = "hangfire",
                    })
                    .WithJobExpirationTimeout(FinishedJobRetention);
            }
            else
            {
                config.UseInMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = FinishedJobRetention })
                    .WithJobExpirationTimeout(FinishedJobRetention);
            }
        });

        services.AddPrequelSecrets();
        return services;
    }

    private sealed class StorageMarker;
}
