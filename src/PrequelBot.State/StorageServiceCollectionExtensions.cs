using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;
using Microsoft.Extensions.Logging;
using PrequelBot.State;
using PrequelBot.State.Jobs;
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
    /// Hangfire.PostgreSql (several nodes; one job wake-up listener per process, short invisibility timeout). The host adds the Hangfire
    /// servers. Call before any other hosted service that needs the schema. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddPrequelStorage(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(StorageMarker))) return services;
        services.AddSingleton<StorageMarker>();

        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>());

        services.TryAddSingleton(sp => NpgsqlDataSource.Create(OwnConnectionString(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ConnectionString)));
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
            // One method per store: a method's references are resolved when it is compiled, so a SQLite node never
            // loads Hangfire.PostgreSql (bench/README.md, "Idle cost").
            if (o.IsPostgres) UsePostgresJobStorage(config, o.ConnectionString);
            else UseInMemoryJobStorage(config);
        });

        services.AddSingleton<IHostedService>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return o.IsPostgres && PostgresJobWakeup.IsAvailable
                ? new PostgresJobWakeup.Listener(OwnConnectionString(o.ConnectionString), sp.GetRequiredService<ILogger<PostgresJobWakeup.Listener>>())
                : new NoService();
        });

        services.AddPrequelSecrets();
        return services;
    }

    private static void UsePostgresJobStorage(IGlobalConfiguration config, string connectionString) =>
        config.UsePostgreSqlStorage(
                c => c.UseNpgsqlConnection(HangfireConnectionString(connectionString)),
                new PostgreSqlStorageOptions
                {
                    // Cross-process pick-up by one LISTEN connection per process (PostgresJobWakeup) instead of one per
                    // idle worker; Hangfire's own long polling only if that is unavailable (docs/architecture.md, "Jobs on PostgreSQL").
                    EnableLongPolling = !PostgresJobWakeup.IsAvailable,
                    QueuePollInterval = TimeSpan.FromSeconds(5),
                    // A crashed node's job is re-fetched after this; a step running longer keeps its own lease (renewed by its
                    // heartbeat), so a re-fetched job finds it held and does nothing.
                    InvisibilityTimeout = TimeSpan.FromMinutes(5),
                    PrepareSchemaIfNecessary = true,
                    SchemaName = "hangfire",
                })
            .WithJobExpirationTimeout(FinishedJobRetention);

    private static void UseInMemoryJobStorage(IGlobalConfiguration config) =>
        config.UseInMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = FinishedJobRetention })
            .WithJobExpirationTimeout(FinishedJobRetention);

    /// <summary>
    /// Hangfire's own pool: at most 10 connections, idle ones closed after 30 s, unless the connection string says
    /// otherwise. Idle, a node then holds the wake-up listener and a few pooled connections (docs/architecture.md).
    /// </summary>
    internal static string HangfireConnectionString(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(OwnConnectionString(connectionString));
        if (!Mentions(connectionString, "Maximum Pool Size", "Max Pool Size", "MaxPoolSize")) builder.MaxPoolSize = 10;
        if (!Mentions(connectionString, "Connection Idle Lifetime", "ConnectionIdleLifetime")) builder.ConnectionIdleLifetime = 30;
        if (!Mentions(connectionString, "Connection Pruning Interval", "ConnectionPruningInterval")) builder.ConnectionPruningInterval = 5;
        if (!Mentions(connectionString, "Application Name", "ApplicationName")) builder.ApplicationName = "prequelbot-hangfire";
        return builder.ConnectionString;
    }

    /// <summary>
    /// PrequelBot's own connections to its store (state, Hangfire, the wake-up listener) do not try GSS (Kerberos)
    /// session encryption unless the connection string sets <c>GSS Encryption Mode</c>. Npgsql's default, Prefer, loads
    /// the Kerberos libraries and asks them for a ticket before every new physical connection; a bot's service account
    /// has none (docs/operations.md, "Hosting"). TLS (<c>SSL Mode</c>) and Kerberos authentication are unchanged.
    /// </summary>
    internal static string OwnConnectionString(string connectionString)
    {
        if (Mentions(connectionString, "GSS Encryption Mode", "GssEncryptionMode")) return connectionString;
        return new NpgsqlConnectionStringBuilder(connectionString) { GssEncryptionMode = GssEncryptionMode.Disable }.ConnectionString;
    }

    private static bool Mentions(string connectionString, params string[] keys) =>
        connectionString.Split(';').Select(p => p.Split('=')[0].Trim()).Any(k => keys.Any(key => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)));

    private sealed class NoService : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class StorageMarker;
}
