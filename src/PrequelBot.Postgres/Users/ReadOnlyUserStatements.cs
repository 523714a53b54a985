namespace PrequelBot.Postgres.Users;

/// <summary>
/// The exact SQL create-user runs, in order, derived from the current state. The plan shows the same
/// statements with the password literal masked as <c>'********'</c>.
/// </summary>
public static class ReadOnlyUserStatements
{
    public const string MaskedPassword = "'********'";

    /// <summary>
    /// Builds the statements. <paramref name="passwordLiteral"/> is the quoted SCRAM verifier to apply, or null for
    /// the plan's mask; it is used only when the role is created, since an existing role's password is never changed.
    /// </summary>
    public static IReadOnlyList<string> Build(ReadOnlyUserSpec spec, ReadOnlyUserState state, string onboardingId, string? passwordLiteral = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(state);
        var user = spec.QuotedUser;
        var sql = new List<string>();
        if (state.Role is null)
        {
            sql.Add($"CREATE USER {user} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {passwordLiteral ?? MaskedPassword}");
            sql.Add($"COMMENT ON ROLE {user} IS {MarkerLiteral(state.Database, onboardingId)}");
        }
        foreach (var setting in state.SettingsToSet)
        {
            var scope = setting.InThisDatabaseOnly ? $" IN DATABASE {PgIdentifier.QuoteCatalogName(state.Database)}" : string.Empty;
            sql.Add($"ALTER ROLE {user}{scope} SET {setting.Name} = {setting.Value}");
        }
        foreach (var owner in state.TemporaryMemberships)
        {
            // PostgreSQL 16+ needs INHERIT on the grant itself (docs/postgres.md, "PostgreSQL 15 and 16+"); SET is not needed.
            sql.Add($"GRANT {PgIdentifier.QuoteCatalogName(owner)} TO CURRENT_USER" + (state.IsPostgres16OrLater ? " WITH INHERIT TRUE, SET FALSE" : string.Empty));
        }
        foreach (var schema in state.SchemasWithoutUsage)
        {
            sql.Add($"GRANT USAGE ON SCHEMA {PgIdentifier.Quote(schema, "schema")} TO {user}");
        }
        foreach (var schema in state.SchemasToGrantAll)
        {
            sql.Add($"GRANT SELECT ON ALL TABLES IN SCHEMA {PgIdentifier.Quote(schema, "schema")} TO {user}");
        }
        foreach (var table in state.TablesToGrant)
        {
            sql.Add($"GRANT SELECT ON {QuotedCatalogTable(table)} TO {user}");
        }
        foreach (var (owner, schema) in state.MissingDefaultPrivileges)
        {
            sql.Add($"ALTER DEFAULT PRIVILEGES FOR ROLE {PgIdentifier.QuoteCatalogName(owner)} IN SCHEMA {PgIdentifier.Quote(schema, "schema")} GRANT SELECT ON TABLES TO {user}");
        }
        foreach (var owner in state.TemporaryMemberships)
        {
            sql.Add($"REVOKE {PgIdentifier.QuoteCatalogName(owner)} FROM CURRENT_USER");
        }
        // Only the temporary membership pair left: nothing to do.
        return sql.Count == state.TemporaryMemberships.Count * 2 ? [] : sql;
    }

    private static string QuotedCatalogTable(Commands.TableName table) =>
        $"{PgIdentifier.QuoteCatalogName(table.Schema)}.{PgIdentifier.QuoteCatalogName(table.Table)}";

    private static string MarkerLiteral(string database, string onboardingId)
    {
        try
        {
            return PgLiteral.Quote(RoleMarker.For(database, onboardingId));
        }
        catch (ArgumentException e)
        {
            throw new Workflows.Ports.StepFailedException("The database name contains a backslash: PrequelBot cannot mark the role it creates there.", e);
        }
    }
}
