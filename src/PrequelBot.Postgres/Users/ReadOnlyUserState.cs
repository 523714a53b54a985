using PrequelBot.Commands;

namespace PrequelBot.Postgres.Users;

/// <summary>Attributes of an existing role, from <c>pg_roles</c>.</summary>
public sealed record RoleAttributes(bool Superuser, bool CreateDb, bool CreateRole, bool BypassRls, bool Replication, bool CanLogin)
{
    /// <summary>The attributes that make a role unfit to be a read-only user, in words ("is a superuser", …).</summary>
    public IReadOnlyList<string> Problems()
    {
        var reasons = new List<string>();
        if (Superuser) reasons.Add("is a superuser");
        if (CreateRole) reasons.Add("can create roles");
        if (CreateDb) reasons.Add("can create databases");
        if (BypassRls) reasons.Add("bypasses row-level security (BYPASSRLS)");
        if (Replication) reasons.Add("has the REPLICATION attribute");
        return reasons;
    }
}

/// <summary>Who made an existing role, as its PrequelBot marker (a comment on the role) says.</summary>
public enum RoleOrigin
{
    /// <summary>No PrequelBot marker: someone else's role.</summary>
    NotMarked,
    /// <summary>PrequelBot created it, for another database of the instance.</summary>
    OtherDatabase,
    /// <summary>PrequelBot created it for this database, in an earlier onboarding.</summary>
    ThisDatabase,
    /// <summary>PrequelBot created it for this database in this very onboarding (a re-run after a crash or retry).</summary>
    ThisOnboarding,
}

/// <summary>How the admin can act for a table creator (default privileges, grants on its tables).</summary>
public enum CreatorReach
{
    /// <summary>The admin holds the role's privileges (superuser, or an INHERIT membership).</summary>
    Direct,
    /// <summary>
    /// The admin may grant itself the role (CREATEROLE on PostgreSQL ≤ 15, ADMIN OPTION on 16+) and does so for the
    /// duration of the transaction only.
    /// </summary>
    Temporary,
    /// <summary>Neither: default privileges and grants for this role's tables are out of the admin's reach.</summary>
    OutOfReach,
}

/// <summary>One role setting to set, e.g. <c>default_transaction_read_only = on</c>; value text generated from typed values only.</summary>
public sealed record RoleSettingChange(string Name, string Value, bool InThisDatabaseOnly);

/// <summary>What the database holds now, as seen by the admin: the basis of the create-user plan.</summary>
public sealed record ReadOnlyUserState
{
    /// <summary>The admin role (current_user): default privileges are always set for it.</summary>
    public required string AdminRole { get; init; }
    /// <summary><c>server_version_num</c>, e.g. 150018: selects the PostgreSQL 16+ membership syntax.</summary>
    public required int ServerVersion { get; init; }
    /// <summary><c>current_database()</c>: the database the role is for (named in its marker).</summary>
    public required string Database { get; init; }
    /// <summary>Null when the role does not exist.</summary>
    public RoleAttributes? Role { get; init; }
    /// <summary>What the role's marker says (<see cref="RoleOrigin.NotMarked"/> for a new role too).</summary>
    public RoleOrigin Origin { get; init; }
    /// <summary>Role settings that are missing or weaker than the reader needs.</summary>
    public required IReadOnlyList<RoleSettingChange> SettingsToSet { get; init; }
    /// <summary>Schemas lacking USAGE for the user (all of them when the role does not exist).</summary>
    public required IReadOnlyList<string> SchemasWithoutUsage { get; init; }
    /// <summary>Schemas to <c>GRANT SELECT ON ALL TABLES IN SCHEMA</c> (a new role, or one that reads none of their tables).</summary>
    public required IReadOnlyList<string> SchemasToGrantAll { get; init; }
    /// <summary>Single tables the user cannot SELECT yet (the listed ones, or the rest of a partly granted schema).</summary>
    public required IReadOnlyList<TableName> TablesToGrant { get; init; }
    /// <summary>(owner role, schema) pairs whose default privileges do not yet grant SELECT to the user.</summary>
    public required IReadOnlyList<(string Owner, string Schema)> MissingDefaultPrivileges { get; init; }
    /// <summary>Every role default privileges are set for (whole schemas only): the admin, table owners in reach, TableCreators.</summary>
    public required IReadOnlyList<string> TableCreators { get; init; }
    /// <summary>Roles the admin grants itself for the transaction (and revokes at its end) to act for them.</summary>
    public required IReadOnlyList<string> TemporaryMemberships { get; init; }
    /// <summary>Table owners the admin cannot act for: their future tables will not be readable automatically.</summary>
    public required IReadOnlyList<string> OwnersOutOfReach { get; init; }

    public bool IsPostgres16OrLater => ServerVersion >= 160000;
}
