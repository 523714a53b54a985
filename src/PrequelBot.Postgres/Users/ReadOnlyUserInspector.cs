using Npgsql;
using PrequelBot.Commands;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// Reads, as the admin, everything create-user decides on: writer or standby, server version, schemas and tables
/// present, whether an existing role may be reused (docs/postgres.md, "Reusing a role"), its settings, grants and
/// default privileges, and how the admin can act for each table creator. Read-only: runs SELECTs only.
/// </summary>
public static class ReadOnlyUserInspector
{
    internal const string TableKinds = "('r','p','v','m','f')";

    /// <summary>
    /// The current state. Throws <see cref="StepFailedException"/> for a standby, a missing schema or table, an existing
    /// role that may not be reused (naming why), or a change the admin is not allowed to make.
    /// </summary>
    public static async Task<ReadOnlyUserState> InspectAsync(NpgsqlConnection admin, ReadOnlyUserSpec spec, string onboardingId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(spec);
        var schemas = spec.Schemas.ToArray();

        string adminRole, database;
        int version;
        bool adminSuper, adminCreateRole, adminInherit;
        await using (var cmd = new NpgsqlCommand("""
            SELECT pg_is_in_recovery(), current_user::text, current_database()::text, current_setting('server_version_num')::int,
                   r.rolsuper, r.rolcreaterole, r.rolinherit
            FROM pg_roles r WHERE r.rolname = current_user
            """, admin))
        await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (reader.GetBoolean(0))
            {
                throw new StepFailedException("The admin connection points at a standby (read replica): create-user must run on the writer. Point AdminConnectionString at the source or cluster (writer) endpoint.");
            }
            (adminRole, database, version) = (reader.GetString(1), reader.GetString(2), reader.GetInt32(3));
            (adminSuper, adminCreateRole, adminInherit) = (reader.GetBoolean(4), reader.GetBoolean(5), reader.GetBoolean(6));
        }
        var v16 = version >= 160000;

        var missingSchemas = await ListStringsAsync(admin, """
            SELECT s FROM unnest(@schemas::text[]) WITH ORDINALITY AS x(s, i)
            WHERE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = x.s) ORDER BY i
            """, cancellationToken, ("schemas", schemas));
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

        var missingCreators = await ListStringsAsync(admin, """
            SELECT c FROM unnest(@creators::text[]) WITH ORDINALITY AS x(c, i)
            WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = x.c) ORDER BY i
            """, cancellationToken, ("creators", spec.TableCreators.ToArray()));
        if (missingCreators.Count > 0)
        {
            throw new StepFailedException($"TableCreators names role {string.Join(", ", missingCreators)}, which does not exist: fix Databases:<alias>:TableCreators.");
        }

        var role = await ReadRoleAsync(admin, spec.UserName, cancellationToken);
        var origin = role is null ? RoleOrigin.NotMarked : RoleMarker.Read(role.Comment, database, onboardingId);
        if (role is not null)
        {
            var reasons = await ReuseProblemsAsync(admin, spec.UserName, role, origin, version, cancellationToken);
            if (reasons.Count > 0)
            {
                throw new StepFailedException(
                    $"Role {spec.UserName} already exists and PrequelBot will not reuse it: it {string.Join("; it ", reasons)}. " +
                    "Choose another --user (PrequelBot then creates a new role).");
            }
        }

        // Every table in scope, with its owner, whether the user can read it and whether the admin may grant it now.
        var tables = new List<(TableName Table, string Owner, bool Readable, bool Grantable)>();
        await using (var cmd = new NpgsqlCommand($"""
            SELECT n.nspname::text, c.relname::text, pg_get_userbyid(c.relowner)::text,
                   CASE WHEN @exists THEN has_table_privilege(@u, c.oid, 'SELECT') ELSE false END,
                   has_table_privilege(current_user, c.oid, 'SELECT WITH GRANT OPTION')
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(@schemas) AND c.relkind IN {TableKinds}
            ORDER BY 1, 2
            """, admin))
        {
            cmd.Parameters.AddWithValue("exists", role is not null);
            cmd.Parameters.AddWithValue("u", spec.UserName);
            cmd.Parameters.AddWithValue("schemas", schemas);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var table = new TableName(reader.GetString(0), reader.GetString(1));
                if (spec.WholeSchemas || spec.Tables.Contains(table))
                {
                    tables.Add((table, reader.GetString(2), reader.GetBoolean(3), reader.GetBoolean(4)));
                }
            }
        }

        // Grants: ALL TABLES IN SCHEMA where the user reads none of a schema's tables (or for a new role), else per table.
        var grantAll = new List<string>();
        var grantTables = new List<TableName>();
        if (spec.WholeSchemas)
        {
            foreach (var schema in schemas)
            {
                var inSchema = tables.Where(t => t.Table.Schema == schema).ToList();
                if (role is null || (inSchema.Count > 0 && inSchema.All(t => !t.Readable)))
                {
                    grantAll.Add(schema);
                }
                else
                {
                    grantTables.AddRange(inSchema.Where(t => !t.Readable).Select(t => t.Table));
                }
            }
        }
        else
        {
            grantTables.AddRange(spec.Tables.Where(listed => tables.Any(t => t.Table == listed && !t.Readable)));
        }
        var granted = tables.Where(t => grantAll.Contains(t.Table.Schema) || grantTables.Contains(t.Table)).ToList();

        // Default privileges (whole schemas only): the admin, every owner of tables there, and TableCreators.
        var creatorCandidates = new List<string>();
        if (spec.WholeSchemas)
        {
            creatorCandidates.AddRange(tables.Select(t => t.Owner).Where(o => o != adminRole && o != spec.UserName).Distinct().Order(StringComparer.Ordinal));
            creatorCandidates.AddRange(spec.TableCreators.Where(c => c != adminRole && !creatorCandidates.Contains(c)));
        }
        var grantOwners = granted.Where(t => !t.Grantable).Select(t => t.Owner).Distinct().ToList();
        var reach = await ReachAsync(admin, [.. creatorCandidates.Union(grantOwners)], v16, adminSuper, adminCreateRole, adminInherit, cancellationToken);

        var unreachableGrants = granted.Where(t => !t.Grantable && reach[t.Owner] == CreatorReach.OutOfReach).ToList();
        if (unreachableGrants.Count > 0)
        {
            throw new StepFailedException(
                $"The admin {adminRole} may not grant SELECT on {string.Join(", ", unreachableGrants.Take(5).Select(t => t.Table))}" +
                $"{(unreachableGrants.Count > 5 ? $" and {unreachableGrants.Count - 5} more" : "")}: their owners ({string.Join(", ", unreachableGrants.Select(t => t.Owner).Distinct())}) " +
                $"are out of its reach ({ReachAdvice(v16)}).");
        }
        var unreachableCreators = spec.WholeSchemas ? spec.TableCreators.Where(c => c != adminRole && reach[c] == CreatorReach.OutOfReach).ToList() : [];
        if (unreachableCreators.Count > 0)
        {
            throw new StepFailedException(
                $"The admin {adminRole} cannot set default privileges for TableCreators role {string.Join(", ", unreachableCreators)} ({ReachAdvice(v16)}).");
        }

        var creators = new List<string>();
        if (spec.WholeSchemas)
        {
            creators.Add(adminRole);
            creators.AddRange(creatorCandidates.Where(c => reach[c] != CreatorReach.OutOfReach));
        }
        var outOfReach = creatorCandidates.Where(c => reach[c] == CreatorReach.OutOfReach).Order(StringComparer.Ordinal).ToList();

        var missingDefaults = new List<(string Owner, string Schema)>();
        foreach (var owner in creators)
        {
            foreach (var schema in schemas)
            {
                if (role is null || !await HasDefaultSelectAsync(admin, owner, schema, spec.UserName, cancellationToken))
                {
                    missingDefaults.Add((owner, schema));
                }
            }
        }

        var settings = ReaderHardening.Needed(
            role?.Global ?? new Dictionary<string, string>(), role?.Here ?? new Dictionary<string, string>(), spec.StatementTimeout,
            ownRole: role is null || origin is RoleOrigin.ThisDatabase or RoleOrigin.ThisOnboarding);
        if (role is not null && settings.Count > 0 && v16 && !adminSuper && !role.AdminHoldsAdminOption)
        {
            throw new StepFailedException(
                $"Role {spec.UserName} needs {string.Join(", ", settings.Select(s => s.Name))} set, and on PostgreSQL 16+ the admin {adminRole} may change " +
                $"a role's settings only with ADMIN OPTION on it (GRANT {spec.UserName} TO {adminRole} WITH ADMIN OPTION, run by its creator or a superuser).");
        }

        var temporary = missingDefaults.Select(d => d.Owner).Concat(granted.Where(t => !t.Grantable).Select(t => t.Owner))
            .Where(o => o != adminRole && reach.TryGetValue(o, out var r) && r == CreatorReach.Temporary)
            .Distinct().Order(StringComparer.Ordinal).ToList();

        return new ReadOnlyUserState
        {
            AdminRole = adminRole,
            ServerVersion = version,
            Database = database,
            Role = role?.Attributes,
            Origin = origin,
            SettingsToSet = settings,
            SchemasWithoutUsage = role is null ? schemas : await ListStringsAsync(admin, """
                SELECT s FROM unnest(@schemas::text[]) WITH ORDINALITY AS x(s, i)
                WHERE NOT has_schema_privilege(@u, x.s, 'USAGE') ORDER BY i
                """, cancellationToken, ("schemas", schemas), ("u", spec.UserName)),
            SchemasToGrantAll = grantAll,
            TablesToGrant = grantTables,
            MissingDefaultPrivileges = missingDefaults,
            TableCreators = creators,
            TemporaryMemberships = temporary,
            OwnersOutOfReach = outOfReach,
        };
    }

    private static string ReachAdvice(bool v16) => v16
        ? "PostgreSQL 16+: the admin needs an INHERIT membership in them, or ADMIN OPTION on them so PrequelBot can take one for the transaction"
        : "the admin needs to be a member of them, or CREATEROLE so PrequelBot can take a membership for the transaction";

    private sealed record ExistingRole(
        RoleAttributes Attributes, string? Comment, IReadOnlyDictionary<string, string> Global, IReadOnlyDictionary<string, string> Here, bool AdminHoldsAdminOption);

    private static async Task<ExistingRole?> ReadRoleAsync(NpgsqlConnection admin, string user, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolbypassrls, r.rolreplication, r.rolcanlogin,
                   shobj_description(r.oid, 'pg_authid'),
                   (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0),
                   (SELECT s.setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                    WHERE s.setrole = r.oid AND d.datname = current_database()),
                   pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION')
            FROM pg_roles r WHERE r.rolname = @u
            """, admin);
        cmd.Parameters.AddWithValue("u", user);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        return new ExistingRole(
            new RoleAttributes(reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetBoolean(5)),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            ReaderHardening.ParseConfig(reader.IsDBNull(7) ? null : reader.GetFieldValue<string[]>(7)),
            ReaderHardening.ParseConfig(reader.IsDBNull(8) ? null : reader.GetFieldValue<string[]>(8)),
            reader.GetBoolean(9));
    }

    /// <summary>
    /// Why an existing role must not become the reader; empty when it may. A role PrequelBot created for this database
    /// is reused unless someone made it a superuser-like role, a group (members) or NOLOGIN since; any other role must be
    /// plain: no members, no memberships, no owned objects anywhere, and no privilege beyond SELECT/USAGE (CONNECT on a
    /// database) in this database, and none at all in another database, where this connection cannot see which it is.
    /// </summary>
    private static async Task<List<string>> ReuseProblemsAsync(
        NpgsqlConnection admin, string user, ExistingRole role, RoleOrigin origin, int version, CancellationToken cancellationToken)
    {
        var reasons = new List<string>(role.Attributes.Problems());
        var ours = origin is RoleOrigin.ThisDatabase or RoleOrigin.ThisOnboarding;
        if (origin == RoleOrigin.OtherDatabase)
        {
            reasons.Add($"was created by PrequelBot for database {RoleMarker.DatabaseOf(role.Comment)}, and Prequel's source for that database uses it");
        }
        if (!role.Attributes.CanLogin)
        {
            reasons.Add(ours
                ? "cannot log in any more (someone set NOLOGIN), and PrequelBot does not undo that"
                : "cannot log in (NOLOGIN): it looks like a group role, and PrequelBot does not turn a group into a login role");
        }
        // On PostgreSQL 16+ the CREATEROLE admin that created a role is recorded as a member with ADMIN OPTION only
        // (no INHERIT, no SET): that grants it none of the role's privileges, so it is not counted.
        var members = await ListStringsAsync(admin, $"""
            SELECT DISTINCT m.rolname::text FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member
            WHERE a.roleid = (SELECT oid FROM pg_roles WHERE rolname = @u)
              {(version >= 160000 ? "AND (a.inherit_option OR a.set_option OR m.rolname <> current_user)" : "")}
            ORDER BY 1
            """, cancellationToken, ("u", user));
        if (members.Count > 0)
        {
            reasons.Add($"has members {Names(members)}: reusing it would give them SELECT too");
        }
        if (ours)
        {
            return reasons;
        }

        var memberships = await ListStringsAsync(admin, """
            SELECT DISTINCT g.rolname::text FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
            WHERE a.member = (SELECT oid FROM pg_roles WHERE rolname = @u) ORDER BY 1
            """, cancellationToken, ("u", user));
        if (memberships.Count > 0)
        {
            reasons.Add($"is a member of {Names(memberships)}, so it holds their privileges too");
        }

        // pg_shdepend is shared by all databases: ownership is visible everywhere, names only here.
        var ownedHere = await ListStringsAsync(admin, """
            SELECT pg_describe_object(s.classid, s.objid, s.objsubid) FROM pg_shdepend s
            WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = @u) AND s.deptype = 'o'
              AND s.dbid IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
            ORDER BY 1
            """, cancellationToken, ("u", user));
        if (ownedHere.Count > 0)
        {
            reasons.Add($"owns {Names(ownedHere)}");
        }
        await using (var cmd = new NpgsqlCommand("""
            SELECT d.datname::text, count(*) FILTER (WHERE s.deptype = 'o'), count(*) FILTER (WHERE s.deptype = 'a')
            FROM pg_shdepend s JOIN pg_database d ON d.oid = s.dbid
            WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = @u)
              AND d.datname <> current_database() AND s.deptype IN ('o', 'a')
            GROUP BY 1 ORDER BY 1
            """, admin))
        {
            cmd.Parameters.AddWithValue("u", user);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var (db, owned, acl) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
                if (owned > 0)
                {
                    reasons.Add($"owns {owned} object(s) in database {db}");
                }
                if (acl > 0)
                {
                    reasons.Add($"holds privileges in database {db}, which PrequelBot cannot inspect from this database");
                }
            }
        }

        var beyond = await ListStringsAsync(admin, BeyondSelectSql(version), cancellationToken, ("u", user));
        if (beyond.Count > 0)
        {
            reasons.Add($"holds more than SELECT/USAGE: {Names(beyond)}");
        }
        return reasons;
    }

    /// <summary>Every ACL entry granting the role anything beyond SELECT/USAGE (CONNECT on a database) that this database shows.</summary>
    private static string BeyondSelectSql(int version) => $"""
        WITH me AS (SELECT oid FROM pg_roles WHERE rolname = @u)
        SELECT what || ' (' || string_agg(DISTINCT privilege_type, ', ' ORDER BY privilege_type) || ')' FROM (
          SELECT CASE c.relkind WHEN 'S' THEN 'sequence ' ELSE 'table ' END || c.oid::regclass::text AS what, a.privilege_type
            FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a WHERE a.grantee = (SELECT oid FROM me) AND a.privilege_type NOT IN ('SELECT', 'USAGE')
          UNION ALL SELECT 'column ' || t.attrelid::regclass::text || '.' || quote_ident(t.attname), a.privilege_type
            FROM pg_attribute t CROSS JOIN LATERAL aclexplode(t.attacl) a WHERE a.grantee = (SELECT oid FROM me) AND a.privilege_type <> 'SELECT'
          UNION ALL SELECT 'schema ' || quote_ident(n.nspname), a.privilege_type
            FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a WHERE a.grantee = (SELECT oid FROM me) AND a.privilege_type <> 'USAGE'
          UNION ALL SELECT 'database ' || quote_ident(d.datname), a.privilege_type
            FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a WHERE a.grantee = (SELECT oid FROM me) AND a.privilege_type <> 'CONNECT'
          UNION ALL SELECT 'function ' || p.oid::regprocedure::text, a.privilege_type
            FROM pg_proc p CROSS JOIN LATERAL aclexplode(p.proacl) a WHERE a.grantee = (SELECT oid FROM me)
          UNION ALL SELECT 'large object ' || l.oid::text, a.privilege_type
            FROM pg_largeobject_metadata l CROSS JOIN LATERAL aclexplode(l.lomacl) a WHERE a.grantee = (SELECT oid FROM me) AND a.privilege_type <> 'SELECT'
          UNION ALL SELECT 'tablespace ' || quote_ident(s.spcname), a.privilege_type
            FROM pg_tablespace s CROSS JOIN LATERAL aclexplode(s.spcacl) a WHERE a.grantee = (SELECT oid FROM me)
          UNION ALL SELECT 'default privileges of ' || quote_ident(pg_get_userbyid(d.defaclrole)), a.privilege_type
            FROM pg_default_acl d CROSS JOIN LATERAL aclexplode(d.defaclacl) a WHERE a.grantee = (SELECT oid FROM me) AND a.privilege_type NOT IN ('SELECT', 'USAGE')
          {(version >= 150000 ? """
          UNION ALL SELECT 'parameter ' || p.parname, a.privilege_type
            FROM pg_parameter_acl p CROSS JOIN LATERAL aclexplode(p.paracl) a WHERE a.grantee = (SELECT oid FROM me)
          """ : "")}
        ) x GROUP BY what ORDER BY what
        """;

    private static string Names(List<string> names) =>
        names.Count <= 5 ? string.Join(", ", names) : $"{string.Join(", ", names.Take(5))} and {names.Count - 5} more";

    /// <summary>How the admin can act for each role: directly, through a membership it takes for the transaction, or not at all.</summary>
    private static async Task<Dictionary<string, CreatorReach>> ReachAsync(
        NpgsqlConnection admin, string[] roles, bool v16, bool adminSuper, bool adminCreateRole, bool adminInherit, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, CreatorReach>(StringComparer.Ordinal);
        if (roles.Length == 0)
        {
            return result;
        }
        // PostgreSQL 16+ keeps one membership row per grantor: only a row the admin granted itself would be touched.
        await using var cmd = new NpgsqlCommand($"""
            SELECT r.rolname::text, r.rolsuper, pg_has_role(current_user, r.oid, 'USAGE'), pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION'),
                   EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = r.oid AND a.member = me.oid {(v16 ? "AND a.grantor = me.oid" : "")}),
                   pg_has_role(r.oid, current_user, 'MEMBER')
            FROM pg_roles r, (SELECT oid FROM pg_roles WHERE rolname = current_user) me
            WHERE r.rolname = ANY(@roles)
            """, admin);
        cmd.Parameters.AddWithValue("roles", roles);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var (name, super, usage, adminOption, hasRow, wouldLoop) =
                (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetBoolean(5));
            var mayGrantItself = v16 ? adminOption : (adminOption || (adminCreateRole && !super)) && adminInherit;
            result[name] = adminSuper || usage ? CreatorReach.Direct
                : mayGrantItself && !hasRow && !wouldLoop ? CreatorReach.Temporary
                : CreatorReach.OutOfReach;
        }
        foreach (var missing in roles.Where(r => !result.ContainsKey(r)))
        {
            result[missing] = CreatorReach.OutOfReach;
        }
        return result;
    }

    private static async Task<bool> HasDefaultSelectAsync(NpgsqlConnection admin, string owner, string schema, string user, CancellationToken cancellationToken)
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
        cmd.Parameters.AddWithValue("u", user);
        return await cmd.ExecuteScalarAsync(cancellationToken) is true;
    }

    internal static async Task<List<string>> ListStringsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value);
        }
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
        cmd.Parameters.AddWithValue("ts", spec.Tables.Select(t => t.Schema).ToArray());
        cmd.Parameters.AddWithValue("tt", spec.Tables.Select(t => t.Table).ToArray());
        var result = new List<TableName>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new TableName(reader.GetString(0), reader.GetString(1)));
        }
        return result;
    }
}
