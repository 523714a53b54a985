using System.Text.RegularExpressions;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// Validates and quotes PostgreSQL identifiers that cannot be sent as parameters (role, schema and table names).
/// Only <c>^[a-z_][a-z0-9_]{0,62}$</c> is accepted, so a name that passes can never break out of its quotes.
/// Validation happens before any connection is opened.
/// </summary>
public static partial class PgIdentifier
{
    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>True when <paramref name="name"/> is a plain lower-case identifier of at most 63 characters.</summary>
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    /// <summary>Throws <see cref="StepFailedException"/> naming <paramref name="what"/> unless the name is valid.</summary>
    public static string Validate(string? name, string what)
    {
        if (!IsValid(name))
        {
            throw new StepFailedException(
                $"Invalid {what} name: only lower-case letters, digits and underscores are allowed (starting with a letter or underscore, at most 63 characters).");
        }
        return name!;
    }

    /// <summary>The validated identifier in double quotes, e.g. <c>"prequel_reader"</c>.</summary>
    public static string Quote(string name, string what = "identifier") => $"\"{Validate(name, what)}\"";

    /// <summary>
    /// Quotes a name read from the catalog (e.g. a table owner), which may contain any character: embedded
    /// double quotes are doubled. Never use this for names that come from a user; use <see cref="Quote"/>.
    /// </summary>
    public static string QuoteCatalogName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
