using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres;

/// <summary>"PostgreSQL sources": which aliases have an AdminConnectionString (never the string itself).</summary>
public sealed class PostgresSourcesStatus(IOptions<DatabasesOptions> databases) : IIntegrationStatus
{
    public string Name => "PostgreSQL sources";

    private IReadOnlyList<string> ConfiguredAliases =>
        [.. databases.Value.Entries.Where(e => !string.IsNullOrWhiteSpace(e.Value.AdminConnectionString)).Select(e => e.Key).Order(StringComparer.OrdinalIgnoreCase)];

    public bool IsConfigured => ConfiguredAliases.Count > 0;

    public string Detail => ConfiguredAliases is { Count: > 0 } aliases
        ? $"admin connection set for {string.Join(", ", aliases)}"
        : "no alias has Databases:<alias>:AdminConnectionString";
}
