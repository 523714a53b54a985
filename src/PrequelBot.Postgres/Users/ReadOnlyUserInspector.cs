using Npgsql;
using PrequelBot.Commands;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// Reads, as the admin, everything create-user decides on: writer or standby, schemas and tables present,
/// the role's attributes, its grants and default privileges. Read-only: runs SELECTs only.
/// </summary>
public static class ReadOnlyUserInspector
{
    private const string TableKinds = "('r','p','v','m','f')";

    /// <summary>
    /// The current state. Throws <see cref="StepFailedException"/> for a standby, a missing schema or table,
    /// or an existing role that is unsafe to reuse.
    /// </summary>
    public static async Task<ReadOnlyUserState> InspectAsync(NpgsqlConnection admin, ReadOnlyUserSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(spec);
        var schemas = spec.Schemas.ToArray();

        string adminRole;
        await using (var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery(), current_user::text", admin))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.GetBoolean(0))
            {
                throw new StepFailedException("The admin connection points at a standby (read replica): create-user must run on the writer. Point AdminConnectionString at the source or cluster (writer) endpoint.");
            }
            adminRole = reader.GetString(1);
        }

        var missingSchemas = await ListStringsAsync(admin, """
            SELECT s FROM unnest(@schemas::text[]) WITH ORDINALITY AS x(s, i)
            WHERE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = x.s) ORDER BY i
            """, [new("schemas", schemas)], cancellationToken);
        if (missingSchemas.Count > 0)
        {
            throw new StepFailedException($"Schema {string.Join(", ", missingSchemas)} does not exist in the database.");
        }

        if (spec.Tables.Count > 0)
        {
            var missingTables = await ListTablesAsync(admin, $"""
                SELECT x.s, x.t FROM unnest(@ts::text[], @tt::text[]) WITH ORDINALITY AS x(s, t, i)
                WHERE NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                  WHERE n.nspname = x.s AND c.relname = x.t AND c.relkind IN {TableKinds})
                ORDER BY i
                """, spec, cancellationToken);
            if (missingTables.Count > 0)
            {
                throw new StepFailedException($"Table {string.Join(", ", missingTables)} does not exist in the database.");
            }
        }

        RoleAttributes? role = null;
        await using (var cmd = new NpgsqlCommand(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication, rolcanlogin FROM pg_roles WHERE rolname = @u", admin))
        {
            cmd.Parameters.AddWithValue("u", spec.UserName);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                role = new RoleAttributes(reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetBoolean(5));
            }
        }
        if (role?.WhyUnsafe(spec.UserName) is { } unsafeReason)
        {
            throw new StepFailedException(unsafeReason);
        }

        // Default privileges: for the admin, and for every role owning tables in these schemas that the admin is a member of.
        var targets = new List<(string Owner, string Schema)>();
        var outOfReach = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var schema in schemas)
        {
            targets.Add((adminRole, schema));
        }
        await using (var cmd = new NpgsqlCommand($"""
            SELECT DISTINCT r.rolname::text, n.nspname::text, pg_has_role(current_user, c.relowner, 'MEMBER')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
            WHERE n.nspname = ANY(@schemas) AND c.relkind IN {TableKinds} AND r.rolname <> current_user AND r.rolname <> @u
            ORDER BY 1, 2
            """, admin))
        {
            cmd.Parameters.AddWithValue("schemas", schemas);
            cmd.Parameters.AddWithValue("u", spec.UserName);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                if (reader.GetBoolean(2))
                {
                    targets.Add((reader.GetString(0), reader.GetString(1)));
                }
                else
                {
                    outOfReach.Add(reader.GetString(0));
                }
            }
        }

        if (role is null)
        {
            return new ReadOnlyUserState
            {
                AdminRole = adminRole,
                SchemasWithoutUsage = schemas,
                TablesWithoutSelect = spec.Tables,
                MissingDefaultPrivileges = targets,
                DefaultPrivilegeTargets = targets,
                OwnersOutOfReach = [.. outOfReach],
            };
        }

        var withoutUsage = await ListStringsAsync(admin, """
            SELECT s FROM unnest(@schemas::text[]) WITH ORDINALITY AS x(s, i)
            WHERE NOT has_schema_privilege(@u, x.s, 'USAGE') ORDER BY i
            """, [new("schemas", schemas), new("u", spec.UserName)], cancellationToken);

        var withoutSelect = spec.Tables.Count > 0
            ? await ListTablesAsync(admin, $"""
                SELECT x.s, x.t FROM unnest(@ts::text[], @tt::text[]) WITH ORDINALITY AS x(s, t, i)
                JOIN pg_namespace n ON n.nspname = x.s JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = x.t
                WHERE c.relkind IN {TableKinds} AND NOT has_table_privilege(@u, c.oid, 'SELECT') ORDER BY i
                """, spec, cancellationToken)
            : await ListTablesAsync(admin, $"""
                SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = ANY(@schemas) AND c.relkind IN {TableKinds} AND NOT has_table_privilege(@u, c.oid, 'SELECT')
                ORDER BY 1, 2
                """, spec, cancellationToken);

        var missingDefaults = new List<(string Owner, string Schema)>();
        foreach (var (owner, schema) in targets)
        {
            await using var cmd = new NpgsqlCommand("""
                SELECT EXISTS (
                  SELECT 1 FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
                  WHERE d.defaclobjtype = 'r' AND n.nspname = @s
                    AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = @o)
                    AND a.grantee = (SELECT oid FROM pg_roles WHERE rolname = @u) AND a.privilege_type = 'SELECT')
                """, admin);
            cmd.Parameters.AddWithValue("s", schema);
            cmd.Parameters.AddWithValue("o", owner);
            cmd.Parameters.AddWithValue("u", spec.UserName);
            if (await cmd.ExecuteScalarAsync(cancellationToken) is not true)
            {
                missingDefaults.Add((owner, schema));
            }
        }

        return new ReadOnlyUserState
        {
            AdminRole = adminRole,
            Role = role,
            SchemasWithoutUsage = withoutUsage,
            TablesWithoutSelect = withoutSelect,
            MissingDefaultPrivileges = missingDefaults,
            DefaultPrivilegeTargets = targets,
            OwnersOutOfReach = [.. outOfReach],
        };
    }

    private static async Task<List<string>> ListStringsAsync(NpgsqlConnection connection, string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        cmd.Parameters.AddRange(parameters);
        var result = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(reader.GetString(0));
        }
        return result;
    }

    private static async Task<List<TableName>> ListTablesAsync(NpgsqlConnection connection, string sql, ReadOnlyUserSpec spec, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        if (sql.Contains("@ts", StringComparison.Ordinal))
        {
            cmd.Parameters.AddWithValue("ts", spec.Tables.Select(t => t.Schema).ToArray());
            cmd.Parameters.AddWithValue("tt", spec.Tables.Select(t => t.Table).ToArray());
        }
        if (sql.Contains("@schemas", StringComparison.Ordinal))
        {
            cmd.Parameters.AddWithValue("schemas", spec.Schemas.ToArray());
        }
        if (sql.Contains("@u", StringComparison.Ordinal))
        {
            cmd.Parameters.AddWithValue("u", spec.UserName);
        }
        var result = new List<TableName>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new TableName(reader.GetString(0), reader.GetString(1)));
        }
        return result;
    }
}
