namespace PrequelBot.Postgres.Users;

/// <summary>Quotes a string literal for the places where PostgreSQL accepts no parameter (e.g. <c>PASSWORD '…'</c>).</summary>
public static class PgLiteral
{
    /// <summary>Standard-conforming literal: single quotes doubled; a backslash or NUL is refused.</summary>
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Contains('\\', StringComparison.Ordinal) || value.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("Literal may not contain a backslash or NUL.", nameof(value));
        }
        return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
    }
}
