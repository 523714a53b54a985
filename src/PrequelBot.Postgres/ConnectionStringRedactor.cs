using Npgsql;

namespace PrequelBot.Postgres;

/// <summary>Describes an Npgsql connection string without its secrets, for logs and chat.</summary>
public static class ConnectionStringRedactor
{
    /// <summary>The connection string without Password (and without a passfile path); null/invalid → empty.</summary>
    public static string Redact(string? connectionString)
    {
        var builder = TryParse(connectionString);
        if (builder is null)
        {
            return string.Empty;
        }
        builder.Remove("Password");
        builder.Remove("Passfile");
        return builder.ConnectionString;
    }

    /// <summary>Short form: <c>host:port/database</c>.</summary>
    public static string Describe(string? connectionString)
    {
        var builder = TryParse(connectionString);
        return builder is null ? "(invalid connection string)" : $"{builder.Host}:{builder.Port}/{builder.Database ?? "postgres"}";
    }

    private static NpgsqlConnectionStringBuilder? TryParse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
