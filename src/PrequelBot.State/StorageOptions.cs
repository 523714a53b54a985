using Microsoft.Extensions.Options;

namespace PrequelBot.State;

/// <summary><c>Storage</c> section (README, "Settings").</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    /// <summary><c>Sqlite</c> (default: embedded, one node, Hangfire in memory) or <c>Postgres</c> (state and Hangfire in PostgreSQL, any number of nodes).</summary>
    public string Provider { get; set; } = Sqlite;

    /// <summary>SQLite or Npgsql connection string; default <c>Data Source=data/prequelbot.db</c>.</summary>
    public string ConnectionString { get; set; } = "Data Source=data/prequelbot.db";

    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Validates <c>Storage</c>; messages name the key and never echo a connection string.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!string.Equals(options.Provider, StorageOptions.Sqlite, StringComparison.OrdinalIgnoreCase) && !options.IsPostgres)
            return ValidateOptionsResult.Fail($"Storage:Provider must be Sqlite or Postgres (got '{options.Provider}').");
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
            return ValidateOptionsResult.Fail("Storage:ConnectionString is empty.");
        try
        {
            if (options.IsPostgres) _ = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString);
            else _ = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(options.ConnectionString);
        }
        catch (ArgumentException)
        {
            return ValidateOptionsResult.Fail($"Storage:ConnectionString is not a valid {(options.IsPostgres ? "Npgsql" : "SQLite")} connection string.");
        }
        return ValidateOptionsResult.Success;
    }
}
