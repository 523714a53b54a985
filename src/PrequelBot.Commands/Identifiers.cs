using System.Globalization;
using System.Text.RegularExpressions;

namespace PrequelBot.Commands;

/// <summary>
/// Validators for every name a user can type (README, "The command language"). Each <c>…Problem</c> method returns null when the
/// value is valid, otherwise a short lower-case phrase naming the broken rule ("must start with a letter"),
/// meant to follow the name in an error message. Each <c>Is…</c> method is the same check as a bool.
/// </summary>
/// <remarks>
/// Values are checked in their canonical form: callers lower-case RDS identifiers, instance classes and
/// onboarding ids first (<see cref="CommandParser"/> does). Only ASCII passes; a look-alike letter from another
/// alphabet is a problem, never silently accepted. A valid value is safe to embed in an AWS request or, quoted,
/// in SQL, but SQL must still quote it (<c>"name"</c>) and never concatenate it unquoted.
/// </remarks>
public static partial class Identifiers
{
    /// <summary>PostgreSQL's limit (NAMEDATALEN − 1) and the RDS DB instance identifier limit.</summary>
    public const int MaxIdentifierLength = 63;

    /// <summary>The longest DB subnet group name AWS accepts.</summary>
    public const int MaxSubnetGroupNameLength = 255;

    /// <summary>The longest Prequel source name this bot accepts.</summary>
    public const int MaxSourceNameLength = 100;

    private static readonly HashSet<string> ReservedRoleNames = new(StringComparer.Ordinal)
    {
        "postgres", "public", "none", "all", "current_user", "current_role", "session_user", "user",
        "rdsadmin", "rdsrepladmin", "rdstopmgr",
    };

    /// <summary>A PostgreSQL identifier as this bot accepts it: <c>[a-z_][a-z0-9_]{0,62}</c>.</summary>
    public static bool IsPostgresIdentifier(string? value) => PostgresIdentifierProblem(value) is null;

    /// <inheritdoc cref="IsPostgresIdentifier" path="/summary"/>
    public static string? PostgresIdentifierProblem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "must not be empty";
        }

        if (value.Length > MaxIdentifierLength)
        {
            return $"must be at most {MaxIdentifierLength} characters (it has {value.Length})";
        }

        foreach (var c in value)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return "must be lower case (PostgreSQL folds unquoted names to lower case)";
            }

            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '_'))
            {
                return $"may contain only lower-case letters, digits and underscores (found {Describe(c)})";
            }
        }

        if (char.IsAsciiDigit(value[0]))
        {
            return "must start with a letter or an underscore";
        }

        return PostgresIdentifierPattern().IsMatch(value) ? null : "must match [a-z_][a-z0-9_]{0,62}";
    }

    /// <summary>
    /// A name for the read-only role to create: a PostgreSQL identifier that is not a built-in or RDS-managed
    /// role (<c>postgres</c>, <c>public</c>, <c>rdsadmin</c>, <c>pg_*</c>, <c>rds_*</c>, …). Re-using such a
    /// role would hand its privileges to Prequel, or fail.
    /// </summary>
    public static string? RoleNameProblem(string? value)
    {
        var problem = PostgresIdentifierProblem(value);
        if (problem is not null)
        {
            return problem;
        }

        if (value!.StartsWith("pg_", StringComparison.Ordinal) || value.StartsWith("rds_", StringComparison.Ordinal)
            || ReservedRoleNames.Contains(value))
        {
            return "is a reserved or built-in role name; pick a new role such as prequel_reader";
        }

        return null;
    }

    /// <summary>A schema to share: a PostgreSQL identifier that is not a system schema (<c>pg_*</c>, <c>information_schema</c>).</summary>
    public static string? SchemaNameProblem(string? value)
    {
        var problem = PostgresIdentifierProblem(value);
        if (problem is not null)
        {
            return problem;
        }

        if (value!.StartsWith("pg_", StringComparison.Ordinal) || value == "information_schema")
        {
            return "is a system schema and cannot be shared";
        }

        return null;
    }

    /// <summary>
    /// An RDS DB instance identifier per the AWS rules: 1–63 letters, digits or hyphens, first a letter, no
    /// trailing hyphen, no two consecutive hyphens; in the canonical lower case AWS stores.
    /// </summary>
    public static bool IsRdsInstanceIdentifier(string? value) => RdsInstanceIdentifierProblem(value) is null;

    /// <inheritdoc cref="IsRdsInstanceIdentifier" path="/summary"/>
    public static string? RdsInstanceIdentifierProblem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "must not be empty";
        }

        if (value.Length > MaxIdentifierLength)
        {
            return $"must be at most {MaxIdentifierLength} characters (it has {value.Length})";
        }

        foreach (var c in value)
        {
            if (c is >= 'A' and <= 'Z')
            {
                return "must be lower case";
            }

            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return $"may contain only letters, digits and hyphens (found {Describe(c)})";
            }
        }

        if (!char.IsAsciiLetterLower(value[0]))
        {
            return "must start with a letter";
        }

        if (value.EndsWith('-'))
        {
            return "must not end with a hyphen";
        }

        if (value.Contains("--", StringComparison.Ordinal))
        {
            return "must not contain two consecutive hyphens";
        }

        return RdsInstanceIdentifierPattern().IsMatch(value) ? null : "must follow the AWS DB instance identifier rules";
    }

    /// <summary>An RDS DB instance class such as <c>db.t4g.medium</c> or <c>db.r6g.2xlarge</c>, lower case.</summary>
    public static bool IsInstanceClass(string? value) => InstanceClassProblem(value) is null;

    /// <inheritdoc cref="IsInstanceClass" path="/summary"/>
    public static string? InstanceClassProblem(string? value) =>
        value is not null && InstanceClassPattern().IsMatch(value)
            ? null
            : "must look like db.<family>.<size>, e.g. db.t4g.medium or db.r6g.2xlarge";

    /// <summary>An onboarding id: <c>ob-</c> followed by 4–12 lower-case letters or digits.</summary>
    public static bool IsOnboardingId(string? value) => OnboardingIdProblem(value) is null;

    /// <inheritdoc cref="IsOnboardingId" path="/summary"/>
    public static string? OnboardingIdProblem(string? value) =>
        value is not null && OnboardingIdPattern().IsMatch(value)
            ? null
            : "must be ob- followed by 4 to 12 lower-case letters or digits, e.g. ob-7k2m9q";

    /// <summary>
    /// A Prequel source name: 1–100 characters of ASCII letters, digits, space, <c>_</c>, <c>-</c> and
    /// <c>.</c>, with no leading or trailing space (callers trim first).
    /// </summary>
    public static bool IsSourceName(string? value) => SourceNameProblem(value) is null;

    /// <inheritdoc cref="IsSourceName" path="/summary"/>
    public static string? SourceNameProblem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "must not be empty";
        }

        if (value.Length > MaxSourceNameLength)
        {
            return $"must be at most {MaxSourceNameLength} characters (it has {value.Length})";
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is ' ' or '_' or '-' or '.'))
            {
                return $"may contain only letters, digits, spaces, '_', '-' and '.' (found {Describe(c)})";
            }
        }

        if (value[0] == ' ' || value[^1] == ' ')
        {
            return "must not start or end with a space";
        }

        return null;
    }

    /// <summary>
    /// A DB subnet group name as AWS allows it in an API call (1–255 letters, digits, <c>.</c>, <c>_</c>, <c>-</c>; lower
    /// case, as RDS stores it), minus spaces (they would end the option's value) and minus <c>default</c>, which AWS
    /// refuses as a named group.
    /// </summary>
    public static bool IsDbSubnetGroupName(string? value) => DbSubnetGroupNameProblem(value) is null;

    /// <inheritdoc cref="IsDbSubnetGroupName" path="/summary"/>
    public static string? DbSubnetGroupNameProblem(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "must not be empty";
        }

        if (value.Length > MaxSubnetGroupNameLength)
        {
            return $"must be at most {MaxSubnetGroupNameLength} characters (it has {value.Length})";
        }

        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-'))
            {
                return $"may contain only lower-case letters, digits, '.', '_' and '-' (found {Describe(c)})";
            }
        }

        return value == "default" ? "must not be default (name a DB subnet group you created)" : null;
    }

    /// <summary>A VPC security group id: <c>sg-</c> followed by 8 or 17 lower-case hexadecimal digits.</summary>
    public static bool IsSecurityGroupId(string? value) => SecurityGroupIdProblem(value) is null;

    /// <inheritdoc cref="IsSecurityGroupId" path="/summary"/>
    public static string? SecurityGroupIdProblem(string? value) =>
        value is not null && SecurityGroupIdPattern().IsMatch(value)
            ? null
            : "must be a security group id: sg- followed by 8 or 17 hexadecimal digits, e.g. sg-0abc1234def567890";

    /// <summary>The longest DB snapshot identifier AWS accepts (CreateDBSnapshot, DeleteDBInstance <c>FinalDBSnapshotIdentifier</c>).</summary>
    public const int MaxSnapshotIdentifierLength = 255;

    /// <summary>
    /// A DB snapshot identifier as AWS accepts it: 1 to 255 letters, digits or hyphens, starting with a letter, no two
    /// hyphens in a row, no hyphen at the end
    /// (<see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html"/>). Checked in lower case.
    /// </summary>
    public static bool IsRdsSnapshotIdentifier(string? value) => value is not null && RdsSnapshotIdentifierPattern().IsMatch(value);

    /// <summary>
    /// The manual snapshot <c>disconnect --final-snapshot</c> keeps of <paramref name="replicaId"/> (a valid RDS instance
    /// identifier): <c>&lt;replica&gt;-prequel-final-&lt;yyyymmddhhmm&gt;</c>, UTC, chosen once when the disconnect starts so every
    /// re-run of the step finds the same snapshot (docs/workflow.md, "Disconnect").
    /// </summary>
    public static string FinalSnapshotId(string replicaId, DateTimeOffset at)
    {
        ArgumentException.ThrowIfNullOrEmpty(replicaId);
        var id = replicaId.ToLowerInvariant() + "-prequel-final-" + at.UtcDateTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture);
        return IsRdsSnapshotIdentifier(id) ? id : throw new ArgumentException($"'{replicaId}' does not make a valid snapshot identifier", nameof(replicaId));
    }

    /// <summary>A character as a user can read it in a one-line error: <c>';'</c> or <c>U+200B</c>.</summary>
    internal static string Describe(char c) =>
        c is > ' ' and < '\u007f' ? $"'{c}'" : $"U+{(int)c:X4}";

    // \z, not $: $ also matches before a trailing newline.
    [GeneratedRegex(@"\A[a-z_][a-z0-9_]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex PostgresIdentifierPattern();

    [GeneratedRegex(@"\A[a-z](?:-?[a-z0-9]){0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RdsInstanceIdentifierPattern();

    [GeneratedRegex(@"\A[a-z](?:-?[a-z0-9]){0,254}\z", RegexOptions.CultureInvariant)]
    private static partial Regex RdsSnapshotIdentifierPattern();

    [GeneratedRegex(@"\Adb\.[a-z0-9]+\.[a-z0-9]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex InstanceClassPattern();

    [GeneratedRegex(@"\Aob-[a-z0-9]{4,12}\z", RegexOptions.CultureInvariant)]
    private static partial Regex OnboardingIdPattern();

    [GeneratedRegex(@"\Asg-(?:[0-9a-f]{8}|[0-9a-f]{17})\z", RegexOptions.CultureInvariant)]
    private static partial Regex SecurityGroupIdPattern();
}
