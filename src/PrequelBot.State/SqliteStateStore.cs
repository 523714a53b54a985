using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace PrequelBot.State;

/// <summary>
/// The embedded default: one SQLite file (WAL mode), one node. Writes take the database lock up front
/// (<c>BEGIN IMMEDIATE</c>, Microsoft.Data.Sqlite's default) so concurrent workers queue instead of deadlocking.
/// </summary>
public sealed class SqliteStateStore : SqlStateStore
{
    /// <summary>Native connections whose per-connection PRAGMAs are set (entries go with the native connection).</summary>
    private static readonly ConditionalWeakTable<SQLitePCL.sqlite3, object> Configured = [];
    private static readonly object Marker = new();

    private readonly string _connectionString;

    public SqliteStateStore(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            Pooling = true,
            DefaultTimeout = 30,
            ForeignKeys = true,
        };
        if (builder.Mode != SqliteOpenMode.Memory && !string.IsNullOrEmpty(builder.DataSource) && builder.DataSource != ":memory:")
        {
            CreateOwnerOnly(Path.GetFullPath(builder.DataSource));
        }
        _connectionString = builder.ToString();
    }

    /// <summary>Owner-only permissions for a folder the store creates (<c>rwx------</c>).</summary>
    public const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Owner-only permissions for a state file the store creates (<c>rw-------</c>).</summary>
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates the state file's folder (0700) and the empty file (0600) when they do not exist yet, before SQLite opens it
    /// (docs/security.md, "Key ring and state at rest"): SQLite gives its WAL and shared-memory files the main file's
    /// permissions, so all three stay owner-only. Existing folders and files are left as they are.
    /// </summary>
    private static void CreateOwnerOnly(string path)
    {
        var directory = Path.GetDirectoryName(path);
        if (OperatingSystem.IsWindows())
        {
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            return;
        }
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory)) Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        if (File.Exists(path)) return;
        try
        {
            using var created = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile });
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: leave its file alone.
        }
    }

    /// <summary>The file's path, for start-up logs.</summary>
    public string DataSource => new SqliteConnectionStringBuilder(_connectionString).DataSource;

    protected internal override DbConnection CreateConnection()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.StateChange += (_, e) =>
        {
            if (e.CurrentState != System.Data.ConnectionState.Open) return;
            // Pooled opens reuse the native connection: its settings are made once, when it is new, not on every open.
            if (connection.Handle is not { } handle || !Configured.TryAdd(handle, Marker)) return;
            try
            {
                using var pragma = connection.CreateCommand();
                // Per-connection settings only; WAL is a property of the file, set once at migration.
                pragma.CommandText = "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;";
                pragma.ExecuteNonQuery();
            }
            catch
            {
                Configured.Remove(handle);
                throw;
            }
        };
        return connection;
    }

    protected override async Task PrepareDatabaseAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override string ColumnExistsSql => "SELECT COUNT(*) FROM pragma_table_info(@table) WHERE name = @column";

    protected override IEnumerable<string> SchemaStatements => CommonSchema("INTEGER PRIMARY KEY AUTOINCREMENT");

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteErrorCode: 19 } s && (s.SqliteExtendedErrorCode is 2067 or 1555);
}
