using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// <c>rotate-password</c> (rotate): sets a new generated password on the role the change record names, sent as a
/// SCRAM-SHA-256 verifier, and moves the role's PrequelBot marker to this onboarding (so <c>verify-access</c> logs in
/// with the new password). The password is stored encrypted before it is set and reused by every re-run, and it stays
/// stored until the onboarding ends, so a crash before <c>update-source</c> resumes with the same password and Prequel is
/// not locked out for good (docs/postgres.md, "rotate-password"). Only a role the bot created is rotated.
/// </summary>
public sealed partial class RotatePasswordStepHandler(AdminConnectionSource adminConnections, ISecretStore secrets, ILogger<RotatePasswordStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.RotatePassword;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (role, _) = await InspectAsync(context, cancellationToken);
        return StepPlan.Change(
            $"ALTER ROLE {PgIdentifier.Quote(role, "role")} PASSWORD '********' (a new generated password, sent as a SCRAM-SHA-256 verifier)",
            $"The old password stops working at once; update-source then gives Prequel the new one. Until then Prequel cannot log in as {role}.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.EnsureApproved(await PlanAsync(context, cancellationToken));
        var (role, database) = await InspectAsync(context, cancellationToken);
        var password = await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken);
        if (password is null)
        {
            password = PasswordGenerator.Generate();
            // Stored before it is set: a crash in between sets the same one on the re-run.
            await secrets.PutAsync(context.OnboardingId, SecretNames.UserPassword, password, cancellationToken);
        }
        var quoted = PgIdentifier.Quote(role, "role");
        await using var connection = await AdminConnectionSource.OpenAsync(adminConnections.Get(context.Request.DatabaseAlias), cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var sql in new[]
        {
            $"ALTER ROLE {quoted} PASSWORD {PgLiteral.Quote(ScramSha256Verifier.Compute(password))}",
            $"COMMENT ON ROLE {quoted} IS {PgLiteral.Quote(RoleMarker.For(database, context.OnboardingId))}",
        })
        {
            await using var cmd = new NpgsqlCommand(sql, connection, transaction);
            await cmd.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        context.Facts.Values[FactKeys.UserPasswordSet] = role;
        LogRotated(context.OnboardingId, role);
        return StepResult.Done($"{role} has a new password (stored encrypted until Prequel's source holds it)");
    }

    /// <summary>The recorded role, after checking it still exists and carries PrequelBot's marker for this database.</summary>
    private async Task<(string Role, string Database)> InspectAsync(StepContext context, CancellationToken cancellationToken)
    {
        var role = context.Facts.Changes.RoleName ?? throw new StepFailedException("no reader role is recorded for this database; connect it first");
        PgIdentifier.Validate(role, "role");
        await using var connection = await AdminConnectionSource.OpenAsync(adminConnections.Get(context.Request.DatabaseAlias), cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT current_database()::text, (SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = @role), EXISTS (SELECT 1 FROM pg_roles WHERE rolname = @role)", connection);
        cmd.Parameters.AddWithValue("role", role);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var database = reader.GetString(0);
        if (!reader.GetBoolean(2)) throw new StepFailedException($"role {role} no longer exists; connect the database again");
        var comment = reader.IsDBNull(1) ? null : reader.GetString(1);
        if (RoleMarker.Read(comment, database, context.OnboardingId) is not (RoleOrigin.ThisDatabase or RoleOrigin.ThisOnboarding))
        {
            throw new StepFailedException($"role {role} was not created by PrequelBot for database {database}, so PrequelBot does not change its password");
        }
        return (role, database);
    }

    [LoggerMessage(LogLevel.Information, "rotate-password for onboarding {OnboardingId}: role {Role} has a new password (SCRAM verifier)")]
    private partial void LogRotated(string onboardingId, string role);
}
