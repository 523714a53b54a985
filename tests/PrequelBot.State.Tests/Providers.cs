using Npgsql;
using PrequelBot.Testing;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.State.Tests;

public sealed class SqliteStateStoreTests : StateStoreContract, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-state-" + Guid.NewGuid().ToString("N"));

    protected override async Task<IStateStore> NewStoreAsync()
    {
        var store = new SqliteStateStore($"Data Source={Path.Combine(_directory, "nested", "state.db")}");
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task Migrating_a_file_from_before_the_outbox_columns_adds_them_and_keeps_the_messages()
    {
        var path = Path.Combine(_directory, "old", "state.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = """
                CREATE TABLE chat_messages (onboarding_id TEXT NOT NULL, message_key TEXT NOT NULL, ref TEXT NOT NULL, content_hash TEXT NOT NULL,
                    PRIMARY KEY (onboarding_id, message_key));
                INSERT INTO chat_messages VALUES ('ob-old1', 'card', '{"Platform":"slack","ConversationId":"C1","MessageId":"1.0001","AdapterData":null}', 'h1');
                """;
            await create.ExecuteNonQueryAsync();
        }

        var store = new SqliteStateStore($"Data Source={path}");
        await store.MigrateAsync(CancellationToken.None);
        await store.MigrateAsync(CancellationToken.None);

        var card = (await store.GetChatMessagesAsync("ob-old1", CancellationToken.None))["card"];
        Assert.Equal(("1.0001", "h1", 0L, false), (card.Ref.MessageId, card.ContentHash, card.ShownVersion, card.ReplacesEarlier));
    }

    [Fact]
    public async Task Every_open_connection_has_the_per_connection_settings_also_when_it_comes_from_the_pool()
    {
        var store = (SqliteStateStore)await NewStoreAsync();

        for (var round = 0; round < 2; round++)
        {
            for (var open = 0; open < 3; open++)
            {
                await using var connection = store.CreateConnection();
                await connection.OpenAsync();
                Assert.Equal((1L, 30000L), (await ScalarAsync(connection, "PRAGMA synchronous"), await ScalarAsync(connection, "PRAGMA busy_timeout")));
            }

            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // the next round gets new native connections
        }

        static async Task<long> ScalarAsync(System.Data.Common.DbConnection connection, string sql)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            return (long)(await command.ExecuteScalarAsync())!;
        }
    }

    [Fact]
    public async Task A_new_state_file_is_owner_only_in_an_owner_only_folder_and_so_are_its_WAL_files()
    {
        if (OperatingSystem.IsWindows()) return; // Unix permissions only
        var store = (SqliteStateStore)await NewStoreAsync();
        await store.PingAsync(CancellationToken.None);

        const UnixFileMode Group = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute;
        const UnixFileMode Other = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        var folder = Path.Combine(_directory, "nested");
        Assert.Equal(SqliteStateStore.OwnerOnlyDirectory, File.GetUnixFileMode(folder));
        Assert.Equal(SqliteStateStore.OwnerOnlyFile, File.GetUnixFileMode(store.DataSource));
        foreach (var file in Directory.GetFiles(folder))
            Assert.Equal(UnixFileMode.None, File.GetUnixFileMode(file) & (Group | Other));
    }

    [Fact]
    public async Task An_existing_folder_keeps_its_permissions()
    {
        if (OperatingSystem.IsWindows()) return; // Unix permissions only
        var folder = Path.Combine(_directory, "nested");
        const UnixFileMode Shared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        Directory.CreateDirectory(folder, Shared);

        await NewStoreAsync();

        Assert.Equal(Shared, File.GetUnixFileMode(folder));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Runs the contract against the real PostgreSQL of the test run, in a database of its own.</summary>
public sealed class PostgresStateStoreTests : StateStoreContract, IAsyncLifetime
{
    private readonly string _database = TestEnvironment.UniqueName("state");
    private NpgsqlDataSource? _dataSource;

    public async Task InitializeAsync()
    {
        await using var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);
        await using (var create = admin.CreateCommand($"CREATE DATABASE \"{_database}\"")) await create.ExecuteNonQueryAsync();
        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = _database }.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_dataSource is not null) await _dataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);
        await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }

    protected override async Task<IStateStore> NewStoreAsync()
    {
        var store = new PostgresStateStore(_dataSource!);
        await store.MigrateAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task Nodes_migrating_at_the_same_time_do_not_collide()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresStateStore(_dataSource!)).ToList();

        await Task.WhenAll(stores.Select(s => s.MigrateAsync(CancellationToken.None)));

        Assert.True(await stores[0].PingAsync(CancellationToken.None));
    }
}
