using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// <c>drop-user</c> (disconnect): drops the read-only role the change record says this bot created, and only while its
/// PrequelBot marker still names this database. On every database of the instance where the role holds privileges or owns
/// something (pg_shdepend), <c>REASSIGN OWNED BY</c> it to the admin role and <c>DROP OWNED BY</c> it (its grants and default
/// privileges), then <c>DROP ROLE</c>. A role that existed before the connect is left alone and the card says so
/// (docs/postgres.md, "drop-user"). Idempotent: a dropped role is "already gone".
/// </summary>
public sealed partial class DropUserStepHandler(AdminConnectionSource adminConnections, ILogger<DropUserStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.DropUser;

    private sealed record Work(string Role, string Admin, IReadOnlyList<string> Databases, bool AdminIsMember);

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (work, why) = await PlanCoreAsync(context, cancellationToken);
        if (work is null) return StepPlan.AlreadyInPlace(why);
        var role = PgIdentifier.Quote(work.Role, "role");
        var admin = PgIdentifier.Quote(work.Admin, "role");
        List<string> changes = [.. work.Databases.Select(db => $"on database {db}: REASSIGN OWNED BY {role} TO {admin}; DROP OWNED BY {role}")];
        changes.Add($"DROP ROLE {role}");
        return StepPlan.Change(changes, $"Objects {work.Role} owns go to {work.Admin}; its grants and default privileges are removed. Prequel can no longer log in as {work.Role}.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.EnsureApproved(await PlanAsync(context, cancellationToken));
        var (work, why) = await PlanCoreAsync(context, cancellationToken);
        if (work is null) return StepResult.Done(why);
        var adminBuilder = adminConnections.Get(context.Request.DatabaseAlias);
        var role = PgIdentifier.Quote(work.Role, "role");
        var admin = PgIdentifier.Quote(work.Admin, "role");
        await using (var main = await AdminConnectionSource.OpenAsync(adminBuilder, cancellationToken))
        {
            if (!work.AdminIsMember)
            {
                // REASSIGN OWNED needs the privileges of both roles; the membership goes with DROP ROLE.
                await ExecuteAsync(main, $"GRANT {role} TO {admin}", cancellationToken);
            }
        }
        foreach (var database in work.Databases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var builder = new NpgsqlConnectionStringBuilder(adminBuilder.ConnectionString) { Database = database };
            await using var connection = await AdminConnectionSource.OpenAsync(builder, cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await ExecuteAsync(connection, $"REASSIGN OWNED BY {role} TO {admin}", cancellationToken, transaction);
            await ExecuteAsync(connection, $"DROP OWNED BY {role}", cancellationToken, transaction);
            await transaction.CommitAsync(cancellationToken);
        }
        await using (var main = await AdminConnectionSource.OpenAsync(adminBuilder, cancellationToken))
        {
            try
            {
                await ExecuteAsync(main, $"DROP ROLE {role}", cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedObject)
            {
                // Gone already.
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DependentObjectsStillExist)
            {
                throw new StepFailedException($"{work.Role} still has privileges or objects PrequelBot cannot reach ({e.MessageText}); retry {context.OnboardingId} after checking its databases.", e);
            }
        }
        LogDropped(context.OnboardingId, work.Role, work.Databases.Count);
        return StepResult.Done($"role {work.Role} dropped (objects reassigned to {work.Admin} on {string.Join(", ", work.Databases)})");
    }

    /// <summary>The work, or null with the reason nothing is to do (not recorded, not ours, already gone).</summary>
    private async Task<(Work? Work, string Why)> PlanCoreAsync(StepContext context, CancellationToken cancellationToken)
    {
        var record = context.Facts.Changes;
        if (record.RoleName is not { } name) return (null, "PrequelBot used no role for this database");
        if (!record.RoleCreated) return (null, $"role {name} existed before the connect; left alone");
        PgIdentifier.Validate(name, "role");
        var admin = adminConnections.Get(context.Request.DatabaseAlias);
        await using var connection = await AdminConnectionSource.OpenAsync(admin, cancellationToken);
        string? comment;
        string adminRole, database;
        bool member;
        await using (var cmd = new NpgsqlCommand("""
            SELECT shobj_description(r.oid, 'pg_authid'), current_user::text, current_database()::text, pg_has_role(current_user, r.oid, 'USAGE')
            FROM pg_roles r WHERE r.rolname = @role
            """, connection))
        {
            cmd.Parameters.AddWithValue("role", name);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken)) return (null, $"role {name} is already gone");
            comment = reader.IsDBNull(0) ? null : reader.GetString(0);
            (adminRole, database, member) = (reader.GetString(1), reader.GetString(2), reader.GetBoolean(3));
        }
        if (RoleMarker.Read(comment, database, context.OnboardingId) is not (RoleOrigin.ThisDatabase or RoleOrigin.ThisOnboarding))
        {
            return (null, $"role {name} no longer carries PrequelBot's marker for database {database}; left alone");
        }
        // Every database where the role owns something or holds a privilege (shared catalog), plus the admin's own.
        List<string> databases = [database];
        await using (var cmd = new NpgsqlCommand("""
            SELECT DISTINCT d.datname::text FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid
            WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = @role)
            ORDER BY 1
            """, connection))
        {
            cmd.Parameters.AddWithValue("role", name);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var db = reader.GetString(0);
                if (!databases.Contains(db, StringComparer.Ordinal)) databases.Add(db);
            }
        }
        return (new Work(name, adminRole, databases, member), "");
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, transaction);
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(LogLevel.Information, "drop-user for onboarding {OnboardingId}: role {Role} dropped after reassigning its objects on {Count} database(s)")]
    private partial void LogDropped(string onboardingId, string role, int count);
}
