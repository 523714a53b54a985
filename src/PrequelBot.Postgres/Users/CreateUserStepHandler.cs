using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// <c>create-user</c>: creates (or reuses) the read-only role on the writer through
/// <c>Databases:&lt;alias&gt;:AdminConnectionString</c>, grants USAGE and SELECT, and sets default privileges
/// so tables created later are readable too.
/// </summary>
/// <remarks>
/// Idempotent: every statement is derived from the current catalog, so a re-run issues only what is missing.
/// The password is stored in <see cref="ISecretStore"/> before it is set on the role and reused on every
/// re-run; it is sent as a SCRAM-SHA-256 verifier, never in clear, and never logged or shown.
/// </remarks>
public sealed partial class CreateUserStepHandler(
    AdminConnectionSource adminConnections,
    ISecretStore secrets,
    ILogger<CreateUserStepHandler> logger) : IStepHandler
{
    /// <summary>Facts value naming the user whose password was set from the stored secret in this onboarding.</summary>
    public const string PasswordSetKey = FactKeys.UserPasswordSet;

    public string StepName => StepNames.CreateUser;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = ReadOnlyUserSpec.From(context.Request);
        var admin = adminConnections.Get(context.Request.DatabaseAlias);
        await using var connection = await OpenAdminAsync(admin, cancellationToken);
        var state = await ReadOnlyUserInspector.InspectAsync(connection, spec, cancellationToken);
        var needsPassword = await NeedsPasswordAsync(context, spec, state, cancellationToken);
        var statements = ReadOnlyUserStatements.Build(spec, state, needsPassword ? ReadOnlyUserStatements.MaskedPassword : null);
        if (statements.Count == 0)
        {
            return StepPlan.AlreadyInPlace($"role {spec.UserName} exists without superuser/createrole/createdb, with USAGE, SELECT and default privileges on {string.Join(", ", spec.Schemas)}");
        }
        var note = "Tables created later in " + string.Join(", ", spec.Schemas) + " become readable too (default privileges)";
        if (state.OwnersOutOfReach.Count > 0)
        {
            note += $"; the admin is not a member of {string.Join(", ", state.OwnersOutOfReach)}, so tables those roles create later need a manual GRANT";
        }
        if (state.Role is not null)
        {
            note += $"; role {spec.UserName} already exists and is reused";
            if (needsPassword && await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken) is null)
            {
                note += "; its password is ROTATED, so anything still using the old one (e.g. an earlier Prequel source) must be updated";
            }
        }
        return StepPlan.Change(statements, note + ".");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var spec = ReadOnlyUserSpec.From(context.Request);
        var admin = adminConnections.Get(context.Request.DatabaseAlias);
        await using var connection = await OpenAdminAsync(admin, cancellationToken);

        for (var attempt = 1; ; attempt++)
        {
            var state = await ReadOnlyUserInspector.InspectAsync(connection, spec, cancellationToken);
            string? passwordLiteral = null;
            if (await NeedsPasswordAsync(context, spec, state, cancellationToken))
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
            var statements = ReadOnlyUserStatements.Build(spec, state, passwordLiteral);
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

            context.Facts.Values[PasswordSetKey] = spec.UserName;
            LogApplied(context.OnboardingId, spec.UserName, statements.Count, admin.Host, admin.Database);
            return StepResult.Done(statements.Count == 0
                ? $"Read-only user {spec.UserName} was already in place."
                : $"Read-only user {spec.UserName} can read {string.Join(", ", spec.Schemas)} ({statements.Count} statements applied).");
        }
    }

    private async Task<bool> NeedsPasswordAsync(StepContext context, ReadOnlyUserSpec spec, ReadOnlyUserState state, CancellationToken cancellationToken)
    {
        if (state.Role is null)
        {
            return true;
        }
        var stored = await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken);
        return stored is null
            || !context.Facts.Values.TryGetValue(PasswordSetKey, out var setFor)
            || !string.Equals(setFor, spec.UserName, StringComparison.Ordinal);
    }

    private static async Task<NpgsqlConnection> OpenAdminAsync(NpgsqlConnectionStringBuilder admin, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(admin.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync();
            var reason = ConnectionFailureClassifier.Classify(e, admin.Host ?? "?", admin.Port, admin.Database ?? "postgres", admin.Username ?? "?");
            throw new StepFailedException($"Cannot connect with the admin connection: {reason}", e);
        }
    }

    [LoggerMessage(LogLevel.Information, "Generated and stored a new password for user {User} of onboarding {OnboardingId}")]
    private partial void LogPasswordGenerated(string onboardingId, string user);

    [LoggerMessage(LogLevel.Information, "Role {User} appeared concurrently for onboarding {OnboardingId}; re-inspecting")]
    private partial void LogRoleRace(string onboardingId, string user);

    [LoggerMessage(LogLevel.Information, "create-user for onboarding {OnboardingId}: user {User}, {Count} statements on {Host}/{Database}")]
    private partial void LogApplied(string onboardingId, string user, int count, string? host, string? database);
}
