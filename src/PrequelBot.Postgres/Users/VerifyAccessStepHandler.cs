using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Commands;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// <c>verify-access</c>: logs in as the new user (host, port, database and SSL settings of the admin connection,
/// the stored password) and proves it can read every granted table and write nothing: no INSERT/UPDATE/DELETE/
/// TRUNCATE privilege, no CREATE on the schemas or the database, and a real CREATE TABLE attempt (rolled back)
/// is refused with 42501. Read-only and safe to repeat. Messages never contain the password or connection string.
/// </summary>
public sealed partial class VerifyAccessStepHandler(
    AdminConnectionSource adminConnections,
    ISecretStore secrets,
    ILogger<VerifyAccessStepHandler> logger) : IStepHandler
{
    private const string TableKinds = "('r','p','v','m','f')";

    public string StepName => StepNames.VerifyAccess;

    public Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = ReadOnlyUserSpec.From(context.Request);
        // Never "already in place": the check is the point of the step, and it runs without an approval.
        return Task.FromResult(StepPlan.Change($"Log in as {spec.UserName} and check it can read {string.Join(", ", spec.Schemas)} and write nothing"));
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = ReadOnlyUserSpec.From(context.Request);
        var admin = adminConnections.Get(context.Request.DatabaseAlias);
        var password = await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken);
        if (password is null)
        {
            return StepResult.Failed($"No stored password for {spec.UserName} in this onboarding: retry so create-user sets a new one.");
        }
        var builder = new NpgsqlConnectionStringBuilder(admin.ConnectionString)
        {
            Username = spec.UserName,
            Password = password,
            Passfile = null,
            Pooling = false,
        };
        var database = admin.Database ?? "postgres";
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            var reason = ConnectionFailureClassifier.Classify(e, admin.Host ?? "?", admin.Port, database, spec.UserName);
            LogConnectFailed(context.OnboardingId, spec.UserName, admin.Host, database, e.GetType().Name);
            return StepResult.Failed($"{spec.UserName} cannot log in: {reason}");
        }

        var problems = new List<string>();
        await using (var cmd = new NpgsqlCommand("SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls OR rolreplication FROM pg_roles WHERE rolname = current_user", connection))
        {
            if (await cmd.ExecuteScalarAsync(cancellationToken) is true)
            {
                problems.Add($"{spec.UserName} has SUPERUSER, CREATEDB, CREATEROLE, BYPASSRLS or REPLICATION");
            }
        }
        await using (var cmd = new NpgsqlCommand("SELECT has_database_privilege(current_database(), 'CREATE')", connection))
        {
            if (await cmd.ExecuteScalarAsync(cancellationToken) is true)
            {
                problems.Add($"{spec.UserName} can CREATE schemas in database {database}");
            }
        }
        await using (var cmd = new NpgsqlCommand("SELECT s FROM unnest(@schemas::text[]) AS s WHERE has_schema_privilege(s, 'CREATE')", connection))
        {
            cmd.Parameters.AddWithValue("schemas", spec.Schemas.ToArray());
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                problems.Add($"{spec.UserName} can CREATE in schema {reader.GetString(0)}");
            }
        }

        var tables = await ListGrantedTablesAsync(connection, spec, cancellationToken);
        var missing = spec.Tables.Where(t => !tables.Any(g => g.Table == t)).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"table {string.Join(", ", missing)} not found");
        }
        var unreadable = new List<TableName>();
        foreach (var (table, canWrite) in tables)
        {
            if (canWrite)
            {
                problems.Add($"{spec.UserName} can write to {table}");
            }
            await using var cmd = new NpgsqlCommand($"SELECT 1 FROM {PgIdentifier.QuoteCatalogName(table.Schema)}.{PgIdentifier.QuoteCatalogName(table.Table)} LIMIT 0", connection);
            try
            {
                await cmd.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                unreadable.Add(table);
            }
        }
        if (unreadable.Count > 0)
        {
            problems.Add($"cannot read {string.Join(", ", unreadable)}");
        }
        if (tables.Count - unreadable.Count == 0 && missing.Count == 0)
        {
            problems.Add($"no table is readable in {string.Join(", ", spec.Schemas)}");
        }
        if (await TryCreateProbeTableAsync(connection, spec.Schemas[0], cancellationToken) is { } createProblem)
        {
            problems.Add(createProblem);
        }

        if (problems.Count > 0)
        {
            LogVerifyFailed(context.OnboardingId, spec.UserName, problems.Count);
            return StepResult.Failed($"Access check of {spec.UserName} failed: {string.Join("; ", problems)}.");
        }
        var summary = string.Join(", ", spec.Schemas.Select(s =>
        {
            var count = tables.Count(t => t.Table.Schema == s);
            return $"{s}: {count} {(count == 1 ? "table" : "tables")}";
        })) + " readable";
        LogVerified(context.OnboardingId, spec.UserName, tables.Count);
        return StepResult.Done($"{spec.UserName} logged in; {summary}; no write or create privilege.");
    }

    private static async Task<List<(TableName Table, bool CanWrite)>> ListGrantedTablesAsync(NpgsqlConnection connection, ReadOnlyUserSpec spec, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT n.nspname::text, c.relname::text,
                   has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
                   OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(@schemas) AND c.relkind IN {TableKinds}
            ORDER BY 1, 2
            """, connection);
        cmd.Parameters.AddWithValue("schemas", spec.Schemas.ToArray());
        var result = new List<(TableName, bool)>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var table = new TableName(reader.GetString(0), reader.GetString(1));
            if (spec.Tables.Count == 0 || spec.Tables.Contains(table))
            {
                result.Add((table, reader.GetBoolean(2)));
            }
        }
        return result;
    }

    /// <summary>Tries a real write (CREATE TABLE) in a transaction that is always rolled back; expects 42501.</summary>
    private static async Task<string?> TryCreateProbeTableAsync(NpgsqlConnection connection, string schema, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            await using var cmd = new NpgsqlCommand(
                $"CREATE TABLE {PgIdentifier.Quote(schema, "schema")}.\"prequelbot_write_probe\" (id int)", connection, transaction);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
            return $"a CREATE TABLE in schema {schema} succeeded (rolled back)";
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            return null;
        }
        catch (PostgresException e)
        {
            return $"the write probe in schema {schema} failed unexpectedly ({e.SqlState})";
        }
        finally
        {
            await transaction.RollbackAsync(cancellationToken);
        }
    }

    [LoggerMessage(LogLevel.Warning, "verify-access for onboarding {OnboardingId}: user {User} cannot connect to {Host}/{Database} ({ErrorType})")]
    private partial void LogConnectFailed(string onboardingId, string user, string? host, string database, string errorType);

    [LoggerMessage(LogLevel.Warning, "verify-access for onboarding {OnboardingId}: user {User} failed {Count} checks")]
    private partial void LogVerifyFailed(string onboardingId, string user, int count);

    [LoggerMessage(LogLevel.Information, "verify-access for onboarding {OnboardingId}: user {User} reads {Count} tables")]
    private partial void LogVerified(string onboardingId, string user, int count);
}
