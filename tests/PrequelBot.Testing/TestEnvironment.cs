namespace PrequelBot.Testing;

/// <summary>Where the real servers of the test run are (scripts/test.sh starts them and exports these variables).</summary>
public static class TestEnvironment
{
    public const string PostgresVariable = "PREQUELBOT_TEST_POSTGRES";
    public const string AwsVariable = "Aws__ServiceUrl";

    /// <summary>A superuser connection string of the throwaway PostgreSQL cluster; fails clearly when absent.</summary>
    public static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set. Run the tests with scripts/test.sh, which starts a throwaway PostgreSQL cluster and exports it, " +
                "or set it to a superuser connection string such as Host=127.0.0.1;Port=5432;Username=postgres;Password=…;Database=postgres.");

    /// <summary>A unique lower-case name for per-test databases and resources.</summary>
    public static string UniqueName(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
}
