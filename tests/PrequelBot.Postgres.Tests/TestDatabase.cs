using Npgsql;

namespace PrequelBot.Postgres.Tests;

/// <summary>
/// A fresh database on the test server (PREQUELBOT_TEST_POSTGRES), dropped with every role the test made.
/// Set up a server as scripts/test.sh does, then export
/// PREQUELBOT_TEST_POSTGRES="Host=127.0.0.1;Port=…;Username=postgres;Password=…;Database=postgres".
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string EnvironmentVariable = "PREQUELBOT_TEST_POSTGRES";

    private readonly List<string> _roles = [];

    private TestDatabase(string name, string adminConnectionString)
    {
        Name = name;
        AdminConnectionString = adminConnectionString;
    }

    /// <summary>Database name, unique per test.</summary>
    public string Name { get; }

    /// <summary>Superuser connection string to this database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>A role name unique to this test (dropped on dispose).</summary>
    public string NewRoleName(string prefix = "reader")
    {
        var role = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
        _roles.Add(role);
        return role;
    }

    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{EnvironmentVariable} is not set. Start a PostgreSQL server (initdb --auth-host=scram-sha-256, listen on 127.0.0.1) and export " +
                $"{EnvironmentVariable}=\"Host=127.0.0.1;Port=<port>;Username=postgres;Password=<password>;Database=postgres\" (scripts/test.sh does this).");

    public static async Task<TestDatabase> CreateAsync()
    {
        var name = $"pgq_{Guid.NewGuid():N}"[..20];
        await using (var server = new NpgsqlConnection(ServerConnectionString))
        {
            await server.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", server);
            await cmd.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name, Pooling = false };
        return new TestDatabase(name, builder.ConnectionString);
    }

    /// <summary>Runs SQL as the superuser in this database.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a query as the superuser in this database and returns the first column of the first row.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary><c>server_version_num</c> of the test server, e.g. 150018.</summary>
    public async Task<int> ServerVersionAsync() =>
        int.Parse((string)(await ScalarAsync("SHOW server_version_num"))!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Connection string for <paramref name="user"/> with <paramref name="password"/> to this database.</summary>
    public string ConnectionStringFor(string user, string password) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Username = user, Password = password, Pooling = false }.ConnectionString;

    public async ValueTask DisposeAsync()
    {
        await using var server = new NpgsqlConnection(ServerConnectionString);
        await server.OpenAsync();
        await using (var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", server))
        {
            await drop.ExecuteNonQueryAsync();
        }
        foreach (var role in _roles)
        {
            await using var cmd = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{role}\"", server);
            await cmd.ExecuteNonQueryAsync();
        }
    }
}
