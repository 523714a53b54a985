using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PrequelBot.Testing;

namespace PrequelBot.State.Tests;

/// <summary>The defaults PrequelBot adds to its own store's connection string (docs/operations.md, "Hosting").</summary>
public sealed class StorageConnectionStringTests
{
    private const string Given = "Host=db.internal;Port=5432;Username=bot;Password=p;Database=prequelbot;SSL Mode=Require";

    [Fact]
    public void GSS_session_encryption_is_off_unless_the_connection_string_asks_for_it()
    {
        var own = new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.OwnConnectionString(Given));
        Assert.Equal(GssEncryptionMode.Disable, own.GssEncryptionMode);
        Assert.Equal(SslMode.Require, own.SslMode);
        Assert.Equal(("db.internal", "bot", "p", "prequelbot"), (own.Host, own.Username, own.Password, own.Database));
    }

    [Theory]
    [InlineData("GSS Encryption Mode=Prefer", GssEncryptionMode.Prefer)]
    [InlineData("GssEncryptionMode=Require", GssEncryptionMode.Require)]
    [InlineData("gss encryption mode=Prefer", GssEncryptionMode.Prefer)]
    public void A_connection_string_that_sets_GSS_keeps_it(string setting, GssEncryptionMode expected)
    {
        var own = new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.OwnConnectionString(Given + ";" + setting));
        Assert.Equal(expected, own.GssEncryptionMode);
        var hangfire = new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.HangfireConnectionString(Given + ";" + setting));
        Assert.Equal(expected, hangfire.GssEncryptionMode);
    }

    [Fact]
    public void Hangfire_connections_get_the_same_default_and_their_pool_limits()
    {
        var hangfire = new NpgsqlConnectionStringBuilder(StorageServiceCollectionExtensions.HangfireConnectionString(Given));
        Assert.Equal(GssEncryptionMode.Disable, hangfire.GssEncryptionMode);
        Assert.Equal((10, 30, "prequelbot-hangfire"), (hangfire.MaxPoolSize, hangfire.ConnectionIdleLifetime, hangfire.ApplicationName));
    }

    [Fact]
    public async Task The_real_server_accepts_a_connection_with_it()
    {
        await using var dataSource = NpgsqlDataSource.Create(StorageServiceCollectionExtensions.OwnConnectionString(TestEnvironment.PostgresConnectionString));
        await using var command = dataSource.CreateCommand("SELECT 1");
        Assert.Equal(1, await command.ExecuteScalarAsync());
    }
}
