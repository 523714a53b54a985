using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Commands;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// <c>verify-access</c>: proves the reader can read every granted table and write nothing. When this onboarding created
/// the role and holds its password, it logs in as the role (host, port, database and SSL settings of the admin
/// connection) and really tries: a SELECT on every table, and, in its default transaction, a temp table, a table and a
/// large object (<c>lo_from_bytea</c>), plus a CREATE TABLE in a read-write transaction, each rolled back. Otherwise (a
/// second <c>connect</c>, or a reused role whose password PrequelBot never had) it checks the same privileges and role
/// settings through the admin connection. Read-only and safe to repeat. Messages never contain the password or a
/// connection string. See docs/postgres.md, "verify-access".
/// </summary>
public sealed partial class VerifyAccessStepHandler(
    AdminConnectionSource adminConnections,
    ISecretStore secrets,
    ILogger<VerifyAccessStepHandler> logger) : IStepHandler
{
    private const string TableKinds = ReadOnlyUserInspector.TableKinds;

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
        var spec = ReadOnlyUserSpec.From(context.Request, adminConnections.Options(context.Request.DatabaseAlias));
        var admin = adminConnections.Get(context.Request.DatabaseAlias);
        await using var adminConnection = await AdminConnectionSource.OpenAsync(admin, cancellationToken);
        var database = admin.Database ?? "postgres";

        string? comment;
        int version;
        await using (var cmd = new NpgsqlCommand("""
            SELECT (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = @u),
                   EXISTS (SELECT 1 FROM pg_roles WHERE rolname = @u), current_setting('server_version_num')::int, current_database()::text
            """, adminConnection))
        {
            cmd.Parameters.AddWithValue("u", spec.UserName);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (!reader.GetBoolean(1))
            {
                return StepResult.Failed($"Role {spec.UserName} does not exist: retry so create-user creates it.");
            }
            (comment, version, database) = (reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetInt32(2), reader.GetString(3));
        }
        var password = await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken);
        var loginPossible = password is not null && RoleMarker.Read(comment, database, context.OnboardingId) == RoleOrigin.ThisOnboarding;
        if (!loginPossible)
        {
            return await CheckThroughAdminAsync(context, spec, adminConnection, version, cancellationToken);
        }

        var builder = new NpgsqlConnectionStringBuilder(admin.ConnectionString)
        {
            Username = spec.UserName,
            Password = password,
            Passfile = null,
            Pooling = false,
        };
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

        var problems = await PrivilegeProblemsAsync(connection, spec, cancellationToken);
        var tables = await ListGrantedTablesAsync(connection, spec, cancellationToken);
        problems.AddRange(TableProblems(spec, tables));
        var unreadable = new List<TableName>();
        foreach (var (table, _, _) in tables)
        {
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
        problems.AddRange(ReadProblems(spec, tables, unreadable));

        // The role's settings as this session sees them (role and database settings applied at login).
        var live = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in new[] { ReaderHardening.ReadOnlyDefault, ReaderHardening.IdleInTransactionTimeout, ReaderHardening.StatementTimeout })
        {
            await using var cmd = new NpgsqlCommand("SELECT current_setting(@n)", connection);
            cmd.Parameters.AddWithValue("n", name);
            live[name] = (string)(await cmd.ExecuteScalarAsync(cancellationToken))!;
        }
        problems.AddRange(SettingProblems(spec, new Dictionary<string, string>(), live));

        var schema = PgIdentifier.Quote(spec.Schemas[0], "schema");
        var temp = await ProbeAsync(connection, "BEGIN", "CREATE TEMP TABLE prequelbot_temp_probe (id int)", cancellationToken);
        if (temp is null)
        {
            problems.Add("a temp table could be created in its default transaction");
        }
        var plain = await ProbeAsync(connection, "BEGIN", $"CREATE TABLE {schema}.prequelbot_write_probe (id int)", cancellationToken);
        if (plain is null)
        {
            problems.Add($"a CREATE TABLE in schema {spec.Schemas[0]} succeeded in its default transaction (rolled back)");
        }
        var privileged = await ProbeAsync(connection, "BEGIN READ WRITE", $"CREATE TABLE {schema}.prequelbot_write_probe (id int)", cancellationToken);
        if (privileged is null)
        {
            problems.Add($"a CREATE TABLE in schema {spec.Schemas[0]} succeeded (rolled back)");
        }
        else if (privileged != PostgresErrorCodes.InsufficientPrivilege)
        {
            problems.Add($"the write probe in schema {spec.Schemas[0]} failed unexpectedly ({privileged})");
        }
        var largeObject = await ProbeAsync(connection, "BEGIN", "SELECT lo_from_bytea(0, decode('00', 'hex'))", cancellationToken);
        string largeObjects;
        if (largeObject is not null)
        {
            largeObjects = largeObject == PostgresErrorCodes.ReadOnlySqlTransaction
                ? "a large object (lo_from_bytea) is refused in its default transaction"
                : $"a large object (lo_from_bytea) is refused ({largeObject})";
        }
        else if (version >= 160000)
        {
            problems.Add("a large object (lo_from_bytea) could be created in its default transaction (rolled back)");
            largeObjects = "";
        }
        else
        {
            largeObjects = $"it can still create large objects: PostgreSQL {version / 10000} allows lo_from_bytea in a read-only transaction (16+ refuses it); the probe's was rolled back";
        }

        if (problems.Count > 0)
        {
            LogVerifyFailed(context.OnboardingId, spec.UserName, problems.Count);
            return StepResult.Failed($"Access check of {spec.UserName} failed: {string.Join("; ", problems)}.");
        }
        LogVerified(context.OnboardingId, spec.UserName, tables.Count);
        return StepResult.Done($"{spec.UserName} logged in; {Summary(spec, tables)}; no write or create privilege; " +
            $"a temp table and a table are refused in its default transaction (read-only); {largeObjects}.");
    }

    /// <summary>The same privileges and role settings, read through the admin connection: for a role whose password PrequelBot does not hold.</summary>
    private async Task<StepResult> CheckThroughAdminAsync(StepContext context, ReadOnlyUserSpec spec, NpgsqlConnection admin, int version, CancellationToken cancellationToken)
    {
        var problems = await PrivilegeProblemsAsync(admin, spec, cancellationToken);
        var tables = await ListGrantedTablesAsync(admin, spec, cancellationToken);
        problems.AddRange(TableProblems(spec, tables));
        problems.AddRange(ReadProblems(spec, tables, [.. tables.Where(t => !t.Readable).Select(t => t.Table)]));

        IReadOnlyDictionary<string, string> global = new Dictionary<string, string>(), here = new Dictionary<string, string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT r.rolcanlogin, coalesce(r.rolvaliduntil > now(), true),
                   (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0),
                   (SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                    WHERE s.setrole = r.oid AND d.datname = current_database())
            FROM pg_roles r WHERE r.rolname = @u
            """, admin))
        {
            cmd.Parameters.AddWithValue("u", spec.UserName);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (!reader.GetBoolean(0))
            {
                problems.Add($"{spec.UserName} cannot log in (NOLOGIN)");
            }
            if (!reader.GetBoolean(1))
            {
                problems.Add($"the password of {spec.UserName} has expired (VALID UNTIL)");
            }
            global = ReaderHardening.ParseConfig(reader.IsDBNull(2) ? null : reader.GetFieldValue<string[]>(2));
            here = ReaderHardening.ParseConfig(reader.IsDBNull(3) ? null : reader.GetFieldValue<string[]>(3));
        }
        problems.AddRange(SettingProblems(spec, global, here));

        if (problems.Count > 0)
        {
            LogVerifyFailed(context.OnboardingId, spec.UserName, problems.Count);
            return StepResult.Failed($"Access check of {spec.UserName} (through the admin connection) failed: {string.Join("; ", problems)}.");
        }
        LogVerifiedThroughAdmin(context.OnboardingId, spec.UserName, tables.Count);
        var largeObjects = version >= 160000
            ? "which also refuses large objects on this PostgreSQL"
            : $"though PostgreSQL {version / 10000} still allows lo_from_bytea in a read-only transaction (16+ refuses it)";
        return StepResult.Done($"{spec.UserName} checked through the admin connection (PrequelBot holds no password for it, so it did not log in): " +
            $"{Summary(spec, tables)}; no write or create privilege; read-only by default ({ReaderHardening.ReadOnlyDefault} = on), {largeObjects}.");
    }

    /// <summary>Role attributes and CREATE on the database and schemas, for role @u, on either connection.</summary>
    private static async Task<List<string>> PrivilegeProblemsAsync(NpgsqlConnection connection, ReadOnlyUserSpec spec, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls OR rolreplication,
                   has_database_privilege(@u, current_database(), 'CREATE'), current_database()::text
            FROM pg_roles WHERE rolname = @u
            """, connection))
        {
            cmd.Parameters.AddWithValue("u", spec.UserName);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetBoolean(0))
            {
                problems.Add($"{spec.UserName} has SUPERUSER, CREATEDB, CREATEROLE, BYPASSRLS or REPLICATION");
            }
            if (reader.GetBoolean(1))
            {
                problems.Add($"{spec.UserName} can CREATE schemas in database {reader.GetString(2)}");
            }
        }
        var creatable = await ReadOnlyUserInspector.ListStringsAsync(connection,
            "SELECT s FROM unnest(@schemas::text[]) AS s WHERE has_schema_privilege(@u, s, 'CREATE')",
            cancellationToken, ("schemas", spec.Schemas.ToArray()), ("u", spec.UserName));
        problems.AddRange(creatable.Select(s => $"{spec.UserName} can CREATE in schema {s}"));
        return problems;
    }

    private static IEnumerable<string> TableProblems(ReadOnlyUserSpec spec, List<(TableName Table, bool CanWrite, bool Readable)> tables)
    {
        var missing = spec.Tables.Where(t => !tables.Any(g => g.Table == t)).ToList();
        if (missing.Count > 0)
        {
            yield return $"table {string.Join(", ", missing)} not found";
        }
        foreach (var (table, canWrite, _) in tables.Where(t => t.CanWrite))
        {
            yield return $"{spec.UserName} can write to {table}";
        }
    }

    private static IEnumerable<string> ReadProblems(ReadOnlyUserSpec spec, List<(TableName Table, bool CanWrite, bool Readable)> tables, List<TableName> unreadable)
    {
        if (unreadable.Count > 0)
        {
            yield return $"cannot read {string.Join(", ", unreadable)}";
        }
        if (tables.Count - unreadable.Count == 0 && spec.Tables.All(t => tables.Any(g => g.Table == t)))
        {
            yield return $"no table is readable in {string.Join(", ", spec.Schemas)}";
        }
    }

    /// <summary>Settings that are missing or weaker than the hardening asks for (a stricter timeout is fine here).</summary>
    private static IEnumerable<string> SettingProblems(ReadOnlyUserSpec spec, IReadOnlyDictionary<string, string> global, IReadOnlyDictionary<string, string> here) =>
        ReaderHardening.Needed(global, here, spec.StatementTimeout, ownRole: false)
            .Select(s => $"{spec.UserName} does not have {s.Name} = {s.Value.Trim('\'')}");

    private static string Summary(ReadOnlyUserSpec spec, List<(TableName Table, bool CanWrite, bool Readable)> tables) =>
        string.Join(", ", spec.Schemas.Select(s =>
        {
            var count = tables.Count(t => t.Table.Schema == s);
            return $"{s}: {count} {(count == 1 ? "table" : "tables")}";
        })) + " readable";

    /// <summary>Every table in scope with, for role @u, whether it can write to it and whether it can read it.</summary>
    private static async Task<List<(TableName Table, bool CanWrite, bool Readable)>> ListGrantedTablesAsync(NpgsqlConnection connection, ReadOnlyUserSpec spec, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT n.nspname::text, c.relname::text,
                   has_table_privilege(@u, c.oid, 'INSERT') OR has_table_privilege(@u, c.oid, 'UPDATE')
                   OR has_table_privilege(@u, c.oid, 'DELETE') OR has_table_privilege(@u, c.oid, 'TRUNCATE'),
                   has_table_privilege(@u, c.oid, 'SELECT') AND has_schema_privilege(@u, n.oid, 'USAGE')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(@schemas) AND c.relkind IN {TableKinds}
            ORDER BY 1, 2
            """, connection);
        cmd.Parameters.AddWithValue("schemas", spec.Schemas.ToArray());
        cmd.Parameters.AddWithValue("u", spec.UserName);
        var result = new List<(TableName, bool, bool)>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var table = new TableName(reader.GetString(0), reader.GetString(1));
            if (spec.Tables.Count == 0 || spec.Tables.Contains(table))
            {
                result.Add((table, reader.GetBoolean(2), reader.GetBoolean(3)));
            }
        }
        return result;
    }

    /// <summary>
    /// Runs <paramref name="sql"/> inside <paramref name="begin"/> (<c>BEGIN</c> = the role's default transaction) and always
    /// rolls back. Null when it succeeded; otherwise the SQLSTATE that refused it.
    /// </summary>
    private static async Task<string?> ProbeAsync(NpgsqlConnection connection, string begin, string sql, CancellationToken cancellationToken)
    {
        await using (var start = new NpgsqlCommand(begin, connection))
        {
            await start.ExecuteNonQueryAsync(cancellationToken);
        }
        try
        {
            await using var cmd = new NpgsqlCommand(sql, connection);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
        finally
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    [LoggerMessage(LogLevel.Warning, "verify-access for onboarding {OnboardingId}: user {User} cannot connect to {Host}/{Database} ({ErrorType})")]
    private partial void LogConnectFailed(string onboardingId, string user, string? host, string database, string errorType);

    [LoggerMessage(LogLevel.Warning, "verify-access for onboarding {OnboardingId}: user {User} failed {Count} checks")]
    private partial void LogVerifyFailed(string onboardingId, string user, int count);

    [LoggerMessage(LogLevel.Information, "verify-access for onboarding {OnboardingId}: user {User} checked through the admin connection, {Count} tables")]
    private partial void LogVerifiedThroughAdmin(string onboardingId, string user, int count);

    [LoggerMessage(LogLevel.Information, "verify-access for onboarding {OnboardingId}: user {User} reads {Count} tables")]
    private partial void LogVerified(string onboardingId, string user, int count);
}
