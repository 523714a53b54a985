using Npgsql;
using PrequelBot.Postgres.Users;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Checks;

/// <summary>
/// The PostgreSQL part of <c>check</c> (docs/workflow.md, "Check"), through the admin connection: the recorded role
/// exists, can log in, has no attribute beyond a reader's, keeps its read-only settings, has USAGE on each schema, and can
/// SELECT every table there now — a table created after the onboarding included — with default privileges for each table
/// creator. Reads the catalogue only (<see cref="ReadOnlyUserInspector"/> runs SELECTs), so it changes nothing.
/// </summary>
public sealed class PostgresConnectionCheck(AdminConnectionSource adminConnections) : IConnectionCheck
{
    public string Area => "PostgreSQL";

    public async Task<IReadOnlyList<CheckFinding>> CheckAsync(ConnectionCheckContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var roleName = context.Changes.RoleName ?? context.Request.UserName;
        var spec = ReadOnlyUserSpec.From(context.Request with { UserName = roleName }, adminConnections.Options(context.Request.DatabaseAlias));
        await using var admin = await AdminConnectionSource.OpenAsync(adminConnections.Get(context.Request.DatabaseAlias), cancellationToken).ConfigureAwait(false);
        ReadOnlyUserState state;
        try
        {
            state = await ReadOnlyUserInspector.InspectAsync(admin, spec, context.ConnectOnboardingId, cancellationToken).ConfigureAwait(false);
        }
        catch (StepFailedException e)
        {
            return [CheckFinding.Drift($"role {roleName}: {e.Message}")];
        }
        if (state.Role is not { } role) return [CheckFinding.Drift($"role {roleName} no longer exists")];
        List<CheckFinding> findings = [];
        var problems = role.Problems();
        findings.Add(problems.Count == 0
            ? CheckFinding.Fine($"role {roleName} is NOSUPERUSER NOCREATEDB NOCREATEROLE")
            : CheckFinding.Drift($"role {roleName} {string.Join(", ", problems)}"));
        if (!role.CanLogin) findings.Add(CheckFinding.Drift($"role {roleName} can no longer log in"));
        findings.Add(state.SettingsToSet.Count == 0
            ? CheckFinding.Fine($"role {roleName} keeps its read-only settings")
            : CheckFinding.Drift($"role {roleName} settings changed: {string.Join(", ", state.SettingsToSet.Select(s => $"{s.Name} is not {s.Value}"))}"));
        foreach (var schema in state.SchemasWithoutUsage) findings.Add(CheckFinding.Drift($"role {roleName} has no USAGE on schema {schema}"));
        var (readable, unreadable) = await TablesAsync(admin, spec, cancellationToken).ConfigureAwait(false);
        findings.Add(unreadable.Count == 0
            ? CheckFinding.Fine($"role {roleName} can read all {readable} table(s) of {Scope(spec)}")
            : CheckFinding.Drift($"role {roleName} cannot read {string.Join(", ", unreadable.Take(5))}{(unreadable.Count > 5 ? $" and {unreadable.Count - 5} more" : "")}"));
        if (spec.WholeSchemas)
        {
            findings.Add(state.MissingDefaultPrivileges.Count == 0
                ? CheckFinding.Fine($"tables created later in {string.Join(", ", spec.Schemas)} by {string.Join(", ", state.TableCreators)} will be readable (default privileges)")
                : CheckFinding.Drift($"tables created later will not be readable: no default SELECT for {string.Join(", ", state.MissingDefaultPrivileges.Select(d => $"{d.Owner} in {d.Schema}"))}"));
        }
        return findings;
    }

    private static string Scope(ReadOnlyUserSpec spec) => spec.WholeSchemas ? $"schema {string.Join(", ", spec.Schemas)}" : string.Join(", ", spec.Tables);

    /// <summary>How many granted tables the role can SELECT now, and the ones it cannot (whole schemas: every table there now).</summary>
    private static async Task<(int Readable, IReadOnlyList<string> Unreadable)> TablesAsync(NpgsqlConnection admin, ReadOnlyUserSpec spec, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand($"""
            SELECT n.nspname::text, c.relname::text, has_table_privilege(@u, c.oid, 'SELECT')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN {ReadOnlyUserInspector.TableKinds}
              AND (CASE WHEN @whole THEN n.nspname = ANY(@schemas)
                        ELSE (n.nspname, c.relname) IN (SELECT * FROM unnest(@ts::text[], @tt::text[])) END)
            ORDER BY 1, 2
            """, admin);
        cmd.Parameters.AddWithValue("u", spec.UserName);
        cmd.Parameters.AddWithValue("whole", spec.WholeSchemas);
        cmd.Parameters.AddWithValue("schemas", spec.Schemas.ToArray());
        cmd.Parameters.AddWithValue("ts", spec.Tables.Select(t => t.Schema).ToArray());
        cmd.Parameters.AddWithValue("tt", spec.Tables.Select(t => t.Table).ToArray());
        var readable = 0;
        List<string> unreadable = [];
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.GetBoolean(2)) readable++;
            else unreadable.Add($"{reader.GetString(0)}.{reader.GetString(1)}");
        }
        return (readable, unreadable);
    }
}
