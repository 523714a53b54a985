namespace PrequelBot.Postgres.Users;

/// <summary>
/// The exact SQL create-user runs, in order, derived from the current state. The plan shows the same
/// statements with the password literal masked as <c>'********'</c>.
/// </summary>
public static class ReadOnlyUserStatements
{
    public const string MaskedPassword = "'********'";

    /// <summary>
    /// Builds the statements. <paramref name="passwordLiteral"/> is the quoted SCRAM verifier to apply, the
    /// mask for a plan, or null when the role's password is already the stored one.
    /// </summary>
    public static IReadOnlyList<string> Build(ReadOnlyUserSpec spec, ReadOnlyUserState state, string? passwordLiteral)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(state);
        var user = spec.QuotedUser;
        var sql = new List<string>();
        if (state.Role is null)
        {
            sql.Add($"CREATE USER {user} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {passwordLiteral ?? MaskedPassword}");
        }
        else if (passwordLiteral is not null || !state.Role.CanLogin)
        {
            // No NOSUPERUSER/NOCREATEDB/NOCREATEROLE here: the inspector has refused a role holding any of them, and naming
            // the SUPERUSER attribute at all is refused for a non-superuser admin (a CREATEROLE role, the RDS master user).
            sql.Add($"ALTER USER {user} WITH LOGIN" + (passwordLiteral is null ? string.Empty : $" PASSWORD {passwordLiteral}"));
        }
        foreach (var schema in state.SchemasWithoutUsage)
        {
            sql.Add($"GRANT USAGE ON SCHEMA {PgIdentifier.Quote(schema, "schema")} TO {user}");
        }
        if (spec.Tables.Count > 0)
        {
            foreach (var table in state.Role is null ? spec.Tables : state.TablesWithoutSelect)
            {
                sql.Add($"GRANT SELECT ON {ReadOnlyUserSpec.QuotedTable(table)} TO {user}");
            }
        }
        else
        {
            var schemas = state.Role is null
                ? spec.Schemas
                : spec.Schemas.Where(s => state.TablesWithoutSelect.Any(t => t.Schema == s)).ToList();
            foreach (var schema in schemas)
            {
                sql.Add($"GRANT SELECT ON ALL TABLES IN SCHEMA {PgIdentifier.Quote(schema, "schema")} TO {user}");
            }
        }
        foreach (var (owner, schema) in state.MissingDefaultPrivileges)
        {
            sql.Add($"ALTER DEFAULT PRIVILEGES FOR ROLE {PgIdentifier.QuoteCatalogName(owner)} IN SCHEMA {PgIdentifier.Quote(schema, "schema")} GRANT SELECT ON TABLES TO {user}");
        }
        return sql;
    }
}
