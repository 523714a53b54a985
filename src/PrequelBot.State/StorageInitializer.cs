using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.State;

/// <summary>Creates or upgrades the schema before anything else starts (registered ahead of the Hangfire servers).</summary>
internal sealed partial class StorageInitializer(IStateStore store, IOptions<StorageOptions> options, ILogger<StorageInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        // SQLite is single-node: leases left by a previous run (e.g. a chat sync cut off by kill -9) are void.
        if (store is SqliteStateStore sqlite) await sqlite.ClearLeasesAsync(cancellationToken).ConfigureAwait(false);
        var o = options.Value;
        var where = store is SqliteStateStore file ? file.DataSource : "PostgreSQL";
        LogReady(logger, o.IsPostgres ? StorageOptions.Postgres : StorageOptions.Sqlite, where, o.IsPostgres ? "PostgreSQL" : "in memory");
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage: {Provider} ({Where}); Hangfire jobs {Jobs}")]
    private static partial void LogReady(ILogger logger, string provider, string where, string jobs);
}
