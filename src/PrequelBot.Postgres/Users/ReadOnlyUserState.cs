using PrequelBot.Commands;

namespace PrequelBot.Postgres.Users;

/// <summary>Attributes of an existing role, from <c>pg_roles</c>.</summary>
public sealed record RoleAttributes(bool Superuser, bool CreateDb, bool CreateRole, bool BypassRls, bool Replication, bool CanLogin)
{
    /// <summary>Why the role must not be reused as a read-only user, or null when it is safe.</summary>
    public string? WhyUnsafe(string user)
    {
        var reasons = new List<string>();
        if (Superuser) reasons.Add("is a superuser");
        if (CreateRole) reasons.Add("can create roles");
        if (CreateDb) reasons.Add("can create databases");
        if (BypassRls) reasons.Add("bypasses row-level security (BYPASSRLS)");
        if (Replication) reasons.Add("has the REPLICATION attribute");
        return reasons.Count == 0
            ? null
            : $"Role {user} already exists and {string.Join(", ", reasons)}: PrequelBot will not reuse it as a read-only user. Choose another --user or remove those attributes.";
    }
}

/// <summary>What the database holds now, as seen by the admin: the basis of the create-user plan.</summary>
public sealed record ReadOnlyUserState
{
    /// <summary>The admin role (current_user): default privileges are always set for it.</summary>
    public required string AdminRole { get; init; }
    /// <summary>Null when the role does not exist.</summary>
    public RoleAttributes? Role { get; init; }
    /// <summary>Schemas lacking USAGE for the user (all of them when the role does not exist).</summary>
    public required IReadOnlyList<string> SchemasWithoutUsage { get; init; }
    /// <summary>Tables (all of the schemas, or the listed ones) the user cannot SELECT.</summary>
    public required IReadOnlyList<TableName> TablesWithoutSelect { get; init; }
    /// <summary>(owner role, schema) pairs whose default privileges do not yet grant SELECT to the user.</summary>
    public required IReadOnlyList<(string Owner, string Schema)> MissingDefaultPrivileges { get; init; }
    /// <summary>Every (owner role, schema) pair default privileges are set for: the admin plus each table owner it is a member of.</summary>
    public required IReadOnlyList<(string Owner, string Schema)> DefaultPrivilegeTargets { get; init; }
    /// <summary>Table owners the admin is not a member of: their future tables will not be readable automatically.</summary>
    public required IReadOnlyList<string> OwnersOutOfReach { get; init; }
}
