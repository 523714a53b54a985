using System.Data.Common;
using Npgsql;

namespace PrequelBot.State;

/// <summary>
/// The state store on PostgreSQL, for any number of nodes sharing one database. Migrations take a
/// transaction-scoped advisory lock so nodes starting together do not race.
/// </summary>
public sealed class PostgresStateStore(NpgsqlDataSource dataSource) : SqlStateStore
{
    /// <summary>Arbitrary constant identifying PrequelBot's migration lock.</summary>
    private const long MigrationLockKey = 0x5072_6571_7565_6C;

    protected internal override DbConnection CreateConnection() => dataSource.CreateConnection();

    protected override string ColumnExistsSql =>
        "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table AND column_name = @column";

    protected override IEnumerable<string> SchemaStatements => CommonSchema("BIGSERIAL PRIMARY KEY");

    protected override async Task BeforeMigrateAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        command.Parameters.AddWithValue("key", MigrationLockKey);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override string RequestKindSql => "(request::jsonb ->> 'kind')";

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
