using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// <c>create-user</c>: creates (or reuses, when that is safe) the read-only role on the writer through
/// <c>Databases:&lt;alias&gt;:AdminConnectionString</c>, hardens it with role settings, grants USAGE and SELECT, and,
/// for whole schemas, sets default privileges for every table creator so tables created later are readable too.
/// </summary>
/// <remarks>
/// Idempotent: every statement is derived from the current catalog, so a re-run issues only what is missing, and a
/// second <c>connect</c> of a connected database finds everything in place. A role it creates is marked with a comment
/// naming the database and onboarding (docs/postgres.md). An existing role's password is never changed. A new role's
/// password is stored in <see cref="ISecretStore"/> before it is set and reused on every re-run; it is sent as a
/// SCRAM-SHA-256 verifier, never in clear, and never logged or shown.
/// </remarks>
public sealed partial class CreateUserStepHandler(
    AdminConnectionSource adminConnections,
    ISecretStore secrets,
    ILogger<CreateUserStepHandler> logger) : IStepHandler
{
    /// <summary>Facts value naming the user this onboarding created (with the stored password).</summary>
    public const string PasswordSetKey = FactKeys.UserPasswordSet;

    public string StepName => StepNames.CreateUser;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (spec, admin) = Prepare(context);
        await using var connection = await AdminConnectionSource.OpenAsync(admin, cancellationToken);
        var state = await ReadOnlyUserInspector.InspectAsync(connection, spec, context.OnboardingId, cancellationToken);
        if (state.Origin == RoleOrigin.ThisOnboarding && !context.IsPreview)
        {
            // A re-run after a crash between CREATE and saving facts: the role and the stored password are this onboarding's.
            context.Facts.Values[PasswordSetKey] = spec.UserName;
        }
        if (!context.IsPreview && state.Role is not null)
        {
            // The bot's own role is found again by its marker (a crash after CREATE and before the save included).
            context.Facts.Changes.SetRole(spec.UserName, created: state.Origin is RoleOrigin.ThisOnboarding or RoleOrigin.ThisDatabase);
        }
        var statements = ReadOnlyUserStatements.Build(spec, state, context.OnboardingId);
        if (statements.Count == 0)
        {
            return StepPlan.AlreadyInPlace(
                $"role {spec.UserName} is in place: read-only by default, USAGE and SELECT on {string.Join(", ", spec.Schemas)}" +
                (spec.WholeSchemas ? $", default privileges for {string.Join(", ", state.TableCreators)}" : string.Empty) +
                "; its password is unchanged");
        }
        return StepPlan.Change(statements, Note(spec, state));
    }

    private static string Note(ReadOnlyUserSpec spec, ReadOnlyUserState state)
    {
        var notes = new List<string>();
        notes.Add(spec.WholeSchemas
            ? $"Tables created later in {string.Join(", ", spec.Schemas)} by {string.Join(", ", state.TableCreators)} become readable too (default privileges)"
            : "Only the listed tables are granted; tables created later are not readable (no default privileges with --tables)");
        if (state.OwnersOutOfReach.Count > 0)
        {
            notes.Add($"the admin cannot act for {string.Join(", ", state.OwnersOutOfReach)}, so tables those roles create later need a manual GRANT");
        }
        if (state.TemporaryMemberships.Count > 0)
        {
            notes.Add($"the admin joins {string.Join(", ", state.TemporaryMemberships)} only for this transaction and leaves again at its end");
        }
        notes.Add($"The role is read-only by default ({ReaderHardening.ReadOnlyDefault} = on) and idle transactions end after 15 minutes");
        if (state.Role is not null)
        {
            notes.Add($"role {spec.UserName} already exists and is reused" +
                (state.Origin is RoleOrigin.ThisDatabase or RoleOrigin.ThisOnboarding ? " (PrequelBot created it for this database)" : " (a plain role: no members, memberships, owned objects or privileges beyond SELECT/USAGE)") +
                "; its password is not changed");
        }
        return string.Join("; ", notes) + ".";
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (spec, admin) = Prepare(context);
        await using var connection = await AdminConnectionSource.OpenAsync(admin, cancellationToken);

        for (var attempt = 1; ; attempt++)
        {
            var state = await ReadOnlyUserInspector.InspectAsync(connection, spec, context.OnboardingId, cancellationToken);
            var planned = ReadOnlyUserStatements.Build(spec, state, context.OnboardingId);
            if (planned.Count == 0)
            {
                if (state.Origin == RoleOrigin.ThisOnboarding)
                {
                    context.Facts.Values[PasswordSetKey] = spec.UserName;
                }
                context.Facts.Changes.SetRole(spec.UserName, created: state.Origin is RoleOrigin.ThisOnboarding or RoleOrigin.ThisDatabase);
                return StepResult.Done($"Read-only user {spec.UserName} was already in place.");
            }
            // Apply exactly what was approved: if the live state moved, the approver must see the new change.
            context.EnsureApproved(StepPlan.Change(planned));
            string? passwordLiteral = null;
            if (state.Role is null)
            {
                var password = await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken);
                if (password is null)
                {
                    password = PasswordGenerator.Generate();
                    // Stored before it is set on the role: a crash in between converges on the next run.
                    await secrets.PutAsync(context.OnboardingId, SecretNames.UserPassword, password, cancellationToken);
                    LogPasswordGenerated(context.OnboardingId, spec.UserName);
                }
                passwordLiteral = PgLiteral.Quote(ScramSha256Verifier.Compute(password));
            }
            var statements = ReadOnlyUserStatements.Build(spec, state, context.OnboardingId, passwordLiteral);
            try
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                foreach (var sql in statements)
                {
                    await using var cmd = new NpgsqlCommand(sql, connection, transaction);
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateObject && attempt == 1)
            {
                // Someone created the role between our look and our CREATE: look again and converge.
                LogRoleRace(context.OnboardingId, spec.UserName);
                continue;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new StepFailedException($"The admin role may not do this ({e.MessageText}). It needs CREATEROLE and the right to GRANT on the schemas.", e);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ReadOnlySqlTransaction)
            {
                throw new StepFailedException("The admin connection points at a read-only server: create-user must run on the writer.", e);
            }

            if (state.Role is null)
            {
                context.Facts.Values[PasswordSetKey] = spec.UserName;
            }
            context.Facts.Changes.SetRole(spec.UserName, created: state.Role is null || state.Origin is RoleOrigin.ThisOnboarding or RoleOrigin.ThisDatabase);
            LogApplied(context.OnboardingId, spec.UserName, statements.Count, admin.Host, admin.Database);
            return StepResult.Done($"Read-only user {spec.UserName} can read {string.Join(", ", spec.Schemas)} ({statements.Count} statements applied).");
        }
    }

    private (ReadOnlyUserSpec Spec, NpgsqlConnectionStringBuilder Admin) Prepare(StepContext context)
    {
        var spec = ReadOnlyUserSpec.From(context.Request, adminConnections.Options(context.Request.DatabaseAlias));
        return (spec, adminConnections.Get(context.Request.DatabaseAlias));
    }

    [LoggerMessage(LogLevel.Information, "Generated and stored a new password for user {User} of onboarding {OnboardingId}")]
    private partial void LogPasswordGenerated(string onboardingId, string user);

    [LoggerMessage(LogLevel.Information, "Role {User} appeared concurrently for onboarding {OnboardingId}; re-inspecting")]
    private partial void LogRoleRace(string onboardingId, string user);

    [LoggerMessage(LogLevel.Information, "create-user for onboarding {OnboardingId}: user {User}, {Count} statements on {Host}/{Database}")]
    private partial void LogApplied(string onboardingId, string user, int count, string? host, string? database);
}
