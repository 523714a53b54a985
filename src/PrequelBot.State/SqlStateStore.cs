using System.Data;
using System.Data.Common;
using System.Diagnostics;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.State;

/// <summary>
/// The state store on plain ADO.NET, shared by the SQLite and PostgreSQL dialects. Times are stored as Unix
/// milliseconds, structured values as JSON, so both dialects read and write exactly the same rows.
/// Concurrency: an onboarding is saved with compare-and-set on its version; leases are conditional upserts.
/// </summary>
public abstract class SqlStateStore : IStateStore
{
    /// <summary>
    /// How long a <c>status</c> listing is reused when this store wrote nothing since: the bound on how late another
    /// node's change shows in <c>status</c> (this node's own writes show at once). The card is always current.
    /// </summary>
    public static readonly TimeSpan ListingReuse = TimeSpan.FromSeconds(1);

    private long _writes;
    private ListingSnapshot? _listing;

    private static readonly string ActiveStates =
        string.Join(", ", Enum.GetValues<OnboardingState>().Where(s => s.IsActive()).Select(s => $"'{s.Word()}'"));

    /// <summary>Schema statements, run in order in one transaction; every one is idempotent (IF NOT EXISTS).</summary>
    protected static IEnumerable<string> CommonSchema(string autoIncrementKey) =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS onboardings (
            id TEXT PRIMARY KEY,
            database_key TEXT NOT NULL,
            state TEXT NOT NULL,
            request TEXT NOT NULL,
            requester TEXT NOT NULL,
            conversation TEXT NOT NULL,
            facts TEXT NOT NULL,
            message TEXT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL,
            version BIGINT NOT NULL,
            chat_version BIGINT NOT NULL,
            chat_synced_version BIGINT NOT NULL DEFAULT 0)
        """,
        $"CREATE UNIQUE INDEX IF NOT EXISTS onboardings_one_active_per_database ON onboardings (database_key) WHERE state IN ({ActiveStates})",
        "CREATE INDEX IF NOT EXISTS onboardings_updated ON onboardings (updated_at)",
        """
        CREATE TABLE IF NOT EXISTS steps (
            onboarding_id TEXT NOT NULL REFERENCES onboardings (id),
            name TEXT NOT NULL,
            ordinal INTEGER NOT NULL,
            state TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (onboarding_id, name))
        """,
        // The reconciler's lease watch (ListIdsWithRunningStepAsync): few rows are ever running.
        $"CREATE INDEX IF NOT EXISTS steps_running ON steps (onboarding_id) WHERE state = '{StepState.Running.Word()}'",
        """
        CREATE TABLE IF NOT EXISTS approvals (
            id TEXT PRIMARY KEY,
            onboarding_id TEXT NOT NULL REFERENCES onboardings (id),
            step TEXT NOT NULL,
            state TEXT NOT NULL,
            data TEXT NOT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS approvals_onboarding ON approvals (onboarding_id)",
        $"""
        CREATE TABLE IF NOT EXISTS audit_events (
            id {autoIncrementKey},
            onboarding_id TEXT NOT NULL,
            at BIGINT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            detail TEXT NULL)
        """,
        "CREATE INDEX IF NOT EXISTS audit_events_onboarding ON audit_events (onboarding_id, id)",
        """
        CREATE TABLE IF NOT EXISTS chat_messages (
            onboarding_id TEXT NOT NULL,
            message_key TEXT NOT NULL,
            ref TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            shown_version BIGINT NOT NULL DEFAULT 0,
            replaces_earlier INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (onboarding_id, message_key))
        """,
        // The outbox's send records (docs/chat-outbox.md): "sending" is written before a post, "sent" with its reference.
        """
        CREATE TABLE IF NOT EXISTS chat_sends (
            onboarding_id TEXT NOT NULL,
            message_key TEXT NOT NULL,
            sequence BIGINT NOT NULL,
            state TEXT NOT NULL,
            first_attempt_at BIGINT NOT NULL,
            attempts INTEGER NOT NULL,
            PRIMARY KEY (onboarding_id, message_key))
        """,
        // The drift watch's record per database (docs/workflow.md, "Drift"): due time, last findings, the notice until chat has it.
        """
        CREATE TABLE IF NOT EXISTS drift_checks (
            database_key TEXT PRIMARY KEY,
            connect_onboarding_id TEXT NOT NULL,
            findings TEXT NOT NULL,
            checked_at BIGINT NOT NULL,
            due_at BIGINT NOT NULL,
            notice TEXT NULL,
            notice_sequence BIGINT NOT NULL,
            notice_posted_sequence BIGINT NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            until_ms BIGINT NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS secrets (
            onboarding_id TEXT NOT NULL,
            name TEXT NOT NULL,
            protected_value TEXT NOT NULL,
            PRIMARY KEY (onboarding_id, name))
        """,
        """
        CREATE TABLE IF NOT EXISTS data_protection_keys (
            friendly_name TEXT PRIMARY KEY,
            xml TEXT NOT NULL)
        """,
    ];

    /// <summary>Columns added after a table's first release: (table, column, definition), added by migration where missing.</summary>
    private static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("chat_messages", "shown_version", "BIGINT NOT NULL DEFAULT 0"),
        ("chat_messages", "replaces_earlier", "INTEGER NOT NULL DEFAULT 0"),
    ];

    protected internal abstract DbConnection CreateConnection();

    /// <summary>A query with <c>@table</c> and <c>@column</c> parameters answering how many such columns exist (0 or 1).</summary>
    protected abstract string ColumnExistsSql { get; }

    /// <summary>Schema statements of this dialect.</summary>
    protected abstract IEnumerable<string> SchemaStatements { get; }

    /// <summary>Runs before the schema statements inside the migration transaction (e.g. a lock against concurrent migrations).</summary>
    protected virtual Task BeforeMigrateAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs once at migration, outside any transaction (e.g. database-wide settings that persist).</summary>
    protected virtual Task PrepareDatabaseAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>True for a unique-constraint violation.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = CreateConnection();
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private static DbCommand Command(DbConnection connection, string sql, DbTransaction? transaction = null, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    private static long Ms(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await PrepareDatabaseAsync(connection, cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await BeforeMigrateAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        foreach (var statement in SchemaStatements)
        {
            await using var command = Command(connection, statement, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var (table, column, definition) in AddedColumns)
        {
            await using var exists = Command(connection, ColumnExistsSql, transaction, ("table", table), ("column", column));
            if (Convert.ToInt64(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture) > 0) continue;
            // Identifiers from the constant list above, never from input.
            await using var add = Command(connection, $"ALTER TABLE {table} ADD COLUMN {column} {definition}", transaction);
            await add.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = Command(connection, "SELECT COUNT(*) FROM onboardings WHERE 1 = 0");
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public async Task CreateAsync(OnboardingAggregate aggregate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        var ob = aggregate.Onboarding;
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        ob.Version = 1;
        try
        {
            await using (var insert = Command(connection, """
                INSERT INTO onboardings (id, database_key, state, request, requester, conversation, facts, message, created_at, updated_at, version, chat_version, chat_synced_version)
                VALUES (@id, @key, @state, @request, @requester, @conversation, @facts, @message, @created, @updated, 1, @chat, 0)
                """, transaction,
                ("id", ob.Id), ("key", ob.DatabaseKey), ("state", ob.State.Word()), ("request", StateJson.Write(ob.Request)),
                ("requester", StateJson.Write(ob.Requester)), ("conversation", StateJson.Write(ob.Conversation)),
                ("facts", StateJson.Write(ob.Facts)), ("message", ob.Message), ("created", Ms(ob.CreatedAt)), ("updated", Ms(ob.UpdatedAt)),
                ("chat", ob.ChatVersion)))
            {
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            throw new ActiveOnboardingExistsException(ob.DatabaseKey, await FindActiveAsync(ob.DatabaseKey, cancellationToken).ConfigureAwait(false));
        }
        await WriteChildrenAsync(connection, transaction, aggregate, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _writes);
    }

    private async Task<string?> FindActiveAsync(string databaseKey, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, $"SELECT id FROM onboardings WHERE database_key = @key AND state IN ({ActiveStates})", null, ("key", databaseKey));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    private static async Task WriteChildrenAsync(DbConnection connection, DbTransaction transaction, OnboardingAggregate aggregate, CancellationToken cancellationToken)
    {
        foreach (var step in aggregate.Steps)
        {
            await using var command = Command(connection, """
                INSERT INTO steps (onboarding_id, name, ordinal, state, data) VALUES (@ob, @name, @ordinal, @state, @data)
                ON CONFLICT (onboarding_id, name) DO UPDATE SET state = excluded.state, data = excluded.data
                """, transaction,
                ("ob", aggregate.Id), ("name", step.Name), ("ordinal", step.Ordinal), ("state", step.State.Word()), ("data", StateJson.Write(step)));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var approval in aggregate.Approvals)
        {
            await using var command = Command(connection, """
                INSERT INTO approvals (id, onboarding_id, step, state, data) VALUES (@id, @ob, @step, @state, @data)
                ON CONFLICT (id) DO UPDATE SET state = excluded.state, data = excluded.data
                """, transaction,
                ("id", approval.Id), ("ob", aggregate.Id), ("step", approval.Step), ("state", approval.State.Word()), ("data", StateJson.Write(approval)));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        foreach (var e in aggregate.NewEvents)
        {
            await using var command = Command(connection,
                "INSERT INTO audit_events (onboarding_id, at, actor, action, detail) VALUES (@ob, @at, @actor, @action, @detail)", transaction,
                ("ob", e.OnboardingId), ("at", Ms(e.At)), ("actor", e.Actor), ("action", e.Action), ("detail", e.Detail));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<OnboardingAggregate?> LoadAsync(string onboardingId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        Onboarding? ob = null;
        await using (var command = Command(connection, "SELECT * FROM onboardings WHERE id = @id", null, ("id", onboardingId)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) ob = ReadOnboarding(reader);
        }
        if (ob is null) return null;

        var steps = new List<StepRecord>();
        await using (var command = Command(connection, "SELECT data FROM steps WHERE onboarding_id = @id ORDER BY ordinal", null, ("id", onboardingId)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) steps.Add(StateJson.Read<StepRecord>(reader.GetString(0)));
        }
        var approvals = new List<ApprovalRecord>();
        await using (var command = Command(connection, "SELECT data FROM approvals WHERE onboarding_id = @id", null, ("id", onboardingId)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) approvals.Add(StateJson.Read<ApprovalRecord>(reader.GetString(0)));
        }
        return new OnboardingAggregate { Onboarding = ob, Steps = steps, Approvals = [.. approvals.OrderBy(a => a.RequestedAt)] };
    }

    private static Onboarding ReadOnboarding(DbDataReader r) => new(
        StateWords.Parse<OnboardingState>(r.GetString(r.GetOrdinal("state"))),
        r.IsDBNull(r.GetOrdinal("message")) ? null : r.GetString(r.GetOrdinal("message")),
        StateJson.Read<OnboardingFacts>(r.GetString(r.GetOrdinal("facts"))))
    {
        Id = r.GetString(r.GetOrdinal("id")),
        DatabaseKey = r.GetString(r.GetOrdinal("database_key")),
        Request = StateJson.Read<OnboardingRequest>(r.GetString(r.GetOrdinal("request"))),
        Requester = StateJson.Read<ChatUser>(r.GetString(r.GetOrdinal("requester"))),
        Conversation = StateJson.Read<ConversationRef>(r.GetString(r.GetOrdinal("conversation"))),
        CreatedAt = FromMs(r.GetInt64(r.GetOrdinal("created_at"))),
        UpdatedAt = FromMs(r.GetInt64(r.GetOrdinal("updated_at"))),
        Version = r.GetInt64(r.GetOrdinal("version")),
        ChatVersion = r.GetInt64(r.GetOrdinal("chat_version")),
    };

    public async Task<bool> TrySaveAsync(OnboardingAggregate aggregate, long expectedVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        var ob = aggregate.Onboarding;
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        int updated;
        try
        {
            await using var update = Command(connection, """
                UPDATE onboardings SET state = @state, facts = @facts, message = @message, updated_at = @updated,
                    version = @next, chat_version = @chat
                WHERE id = @id AND version = @expected
                """, transaction,
                ("state", ob.State.Word()), ("facts", StateJson.Write(ob.Facts)), ("message", ob.Message), ("updated", Ms(ob.UpdatedAt)),
                ("next", expectedVersion + 1), ("chat", ob.ChatVersion), ("id", ob.Id), ("expected", expectedVersion));
            updated = await update.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DbException e) when (IsUniqueViolation(e))
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            throw new ActiveOnboardingExistsException(ob.DatabaseKey, await FindActiveAsync(ob.DatabaseKey, cancellationToken).ConfigureAwait(false));
        }
        if (updated != 1)
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            return false;
        }
        await WriteChildrenAsync(connection, transaction, aggregate, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _writes);
        ob.Version = expectedVersion + 1;
        return true;
    }

    public async Task<string?> FindOnboardingIdByApprovalAsync(string approvalId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "SELECT onboarding_id FROM approvals WHERE id = @id", null, ("id", approvalId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task<IReadOnlyList<OnboardingListing>> ListRecentWithCurrentStepAsync(int limit, CancellationToken cancellationToken)
    {
        // status is the hot read path (every user may type it at any time): a listing is reused until this store writes
        // an onboarding, or for ListingReuse at most. The write count is read before the query, so a listing that raced
        // with a write is never reused afterwards.
        var writes = Interlocked.Read(ref _writes);
        var now = Stopwatch.GetTimestamp();
        if (Volatile.Read(ref _listing) is { } cached && cached.Writes == writes && cached.Limit == limit && Stopwatch.GetElapsedTime(cached.TakenAt, now) < ListingReuse)
            return cached.Items;
        var items = await QueryRecentWithCurrentStepAsync(limit, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _listing, new ListingSnapshot(writes, limit, now, items));
        return items;
    }

    private sealed record ListingSnapshot(long Writes, int Limit, long TakenAt, IReadOnlyList<OnboardingListing> Items);

    private async Task<IReadOnlyList<OnboardingListing>> QueryRecentWithCurrentStepAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, $"""
            SELECT id, database_key, state, requester, updated_at,
                   (SELECT s.name FROM steps s
                    WHERE s.onboarding_id = onboardings.id AND s.state NOT IN ('{StepState.Completed.Word()}', '{StepState.AlreadyInPlace.Word()}')
                    ORDER BY s.ordinal LIMIT 1) AS current_step
            FROM onboardings {RecentFirst}
            """, null, ("limit", limit));
        var result = new List<OnboardingListing>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new OnboardingListing(reader.GetString(0), reader.GetString(1), StateWords.Parse<OnboardingState>(reader.GetString(2)),
                StateJson.Read<ChatUser>(reader.GetString(3)), FromMs(reader.GetInt64(4)), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }
        return result;
    }

    /// <summary>Active onboardings first, then the most recently updated; with a <c>@limit</c> parameter.</summary>
    private static string RecentFirst => $"ORDER BY CASE WHEN state IN ({ActiveStates}) THEN 0 ELSE 1 END, updated_at DESC LIMIT @limit";

    /// <summary>SQL that reads the onboarding kind out of the <c>request</c> JSON column (differs per dialect).</summary>
    protected virtual string RequestKindSql => "json_extract(request, '$.kind')";

    public async Task<IReadOnlyList<OnboardingCount>> CountByStateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, $"SELECT COALESCE({RequestKindSql}, 'connect') AS kind, state, COUNT(*) FROM onboardings GROUP BY 1, 2 ORDER BY 1, 2");
        var counts = new List<OnboardingCount>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            counts.Add(new OnboardingCount(reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
        return counts;
    }

    public Task<IReadOnlyList<string>> ListActiveIdsAsync(CancellationToken cancellationToken) =>
        ListIdsAsync($"SELECT id FROM onboardings WHERE state IN ({ActiveStates}) ORDER BY updated_at", cancellationToken);

    public Task<IReadOnlyList<string>> ListIdsWithRunningStepAsync(CancellationToken cancellationToken) =>
        ListIdsAsync($"SELECT DISTINCT onboarding_id FROM steps WHERE state = '{StepState.Running.Word()}' ORDER BY onboarding_id", cancellationToken);

    public async Task<IReadOnlyList<string>> ListIdsOfDatabaseAsync(string databaseKey, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "SELECT id FROM onboardings WHERE database_key = @key ORDER BY created_at DESC, id DESC", null, ("key", databaseKey));
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) ids.Add(reader.GetString(0));
        return ids;
    }

    public Task<IReadOnlyList<string>> ListChatPendingIdsAsync(CancellationToken cancellationToken) =>
        ListIdsAsync("SELECT id FROM onboardings WHERE chat_version > chat_synced_version ORDER BY updated_at", cancellationToken);

    private async Task<IReadOnlyList<string>> ListIdsAsync(string sql, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, sql);
        var ids = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) ids.Add(reader.GetString(0));
        return ids;
    }

    public async Task MarkChatSyncedAsync(string onboardingId, long chatVersion, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "UPDATE onboardings SET chat_synced_version = @v WHERE id = @id AND chat_synced_version < @v", null, ("v", chatVersion), ("id", onboardingId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> GetChatSyncedVersionAsync(string onboardingId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "SELECT chat_synced_version FROM onboardings WHERE id = @id", null, ("id", onboardingId));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is { } v and not DBNull ? Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    public async Task<IReadOnlyList<AuditEvent>> GetAuditAsync(string onboardingId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "SELECT onboarding_id, at, actor, action, detail FROM audit_events WHERE onboarding_id = @id ORDER BY id", null, ("id", onboardingId));
        var events = new List<AuditEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            events.Add(new AuditEvent(reader.GetString(0), FromMs(reader.GetInt64(1)), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return events;
    }

    public async Task<IReadOnlyDictionary<string, StoredChatMessage>> GetChatMessagesAsync(string onboardingId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "SELECT message_key, ref, content_hash, shown_version, replaces_earlier FROM chat_messages WHERE onboarding_id = @id", null, ("id", onboardingId));
        var messages = new Dictionary<string, StoredChatMessage>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            messages[reader.GetString(0)] = new StoredChatMessage(StateJson.Read<ChatMessageRef>(reader.GetString(1)), reader.GetString(2),
                reader.GetInt64(3), reader.GetInt64(4) != 0);
        }
        return messages;
    }

    public async Task SaveChatMessageAsync(string onboardingId, string key, StoredChatMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var save = Command(connection, """
            INSERT INTO chat_messages (onboarding_id, message_key, ref, content_hash, shown_version, replaces_earlier)
            VALUES (@id, @key, @ref, @hash, @version, @replaces)
            ON CONFLICT (onboarding_id, message_key) DO UPDATE SET ref = excluded.ref, content_hash = excluded.content_hash,
                shown_version = excluded.shown_version, replaces_earlier = excluded.replaces_earlier
            """, transaction, ("id", onboardingId), ("key", key), ("ref", StateJson.Write(message.Ref)), ("hash", message.ContentHash),
            ("version", message.ShownVersion), ("replaces", message.ReplacesEarlier ? 1L : 0L)))
        {
            await save.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await using (var sent = Command(connection, "UPDATE chat_sends SET state = 'sent' WHERE onboarding_id = @id AND message_key = @key", transaction,
            ("id", onboardingId), ("key", key)))
        {
            await sent.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<ChatSendAttempt> BeginChatSendAsync(string onboardingId, string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // One statement: the sequence is the onboarding's next number (its sends are serialised by the chat lease, and
        // the primary key would refuse a second row for one message anyway).
        await using var command = Command(connection, """
            INSERT INTO chat_sends (onboarding_id, message_key, sequence, state, first_attempt_at, attempts)
            VALUES (@id, @key, (SELECT COALESCE(MAX(s.sequence), 0) + 1 FROM chat_sends s WHERE s.onboarding_id = @id), 'sending', @now, 1)
            ON CONFLICT (onboarding_id, message_key) DO UPDATE SET state = 'sending', attempts = chat_sends.attempts + 1
            RETURNING sequence, first_attempt_at, attempts
            """, null, ("id", onboardingId), ("key", key), ("now", Ms(now)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) throw new InvalidOperationException("The send record was not written.");
        return new ChatSendAttempt(reader.GetInt64(0), FromMs(reader.GetInt64(1)), Convert.ToInt32(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture));
    }

    public async Task CancelChatSendAsync(string onboardingId, string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "UPDATE chat_sends SET attempts = 0 WHERE onboarding_id = @id AND message_key = @key AND state = 'sending'", null, ("id", onboardingId), ("key", key));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryClaimChatUpdateAsync(string onboardingId, string key, long chatVersion, string pendingHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, """
            UPDATE chat_messages SET shown_version = @version, content_hash = @pending
            WHERE onboarding_id = @id AND message_key = @key AND shown_version <= @version
            """, null, ("id", onboardingId), ("key", key), ("version", chatVersion), ("pending", pendingHash));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task<bool> ConfirmChatUpdateAsync(string onboardingId, string key, long chatVersion, string pendingHash, string hash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, """
            UPDATE chat_messages SET content_hash = @hash
            WHERE onboarding_id = @id AND message_key = @key AND shown_version = @version AND content_hash = @pending
            """, null, ("id", onboardingId), ("key", key), ("version", chatVersion), ("pending", pendingHash), ("hash", hash));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task MarkChatMessageStaleAsync(string onboardingId, string key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "UPDATE chat_messages SET content_hash = '' WHERE onboarding_id = @id AND message_key = @key", null, ("id", onboardingId), ("key", key));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> TryAcquireLeaseAsync(string name, string owner, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, """
            INSERT INTO leases (name, owner, until_ms) VALUES (@name, @owner, @until)
            ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_ms = excluded.until_ms
            WHERE leases.owner = excluded.owner OR leases.until_ms < @now
            """, null, ("name", name), ("owner", owner), ("until", Ms(until)), ("now", Ms(DateTimeOffset.UtcNow)));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async Task ReleaseLeaseAsync(string name, string owner, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "DELETE FROM leases WHERE name = @name AND owner = @owner", null, ("name", name), ("owner", owner));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task PutSecretAsync(string onboardingId, string name, string protectedValue, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, """
            INSERT INTO secrets (onboarding_id, name, protected_value) VALUES (@id, @name, @value)
            ON CONFLICT (onboarding_id, name) DO UPDATE SET protected_value = excluded.protected_value
            """, null, ("id", onboardingId), ("name", name), ("value", protectedValue));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<string?> GetSecretAsync(string onboardingId, string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "SELECT protected_value FROM secrets WHERE onboarding_id = @id AND name = @name", null, ("id", onboardingId), ("name", name));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    public async Task DeleteSecretsAsync(string onboardingId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "DELETE FROM secrets WHERE onboarding_id = @id", null, ("id", onboardingId));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public IReadOnlyList<string> GetDataProtectionKeys()
    {
        using var connection = CreateConnection();
        connection.Open();
        using var command = Command(connection, "SELECT xml FROM data_protection_keys ORDER BY friendly_name");
        var keys = new List<string>();
        using var reader = command.ExecuteReader();
        while (reader.Read()) keys.Add(reader.GetString(0));
        return keys;
    }

    public void StoreDataProtectionKey(string friendlyName, string xml)
    {
        using var connection = CreateConnection();
        connection.Open();
        using var command = Command(connection,
            "INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@name, @xml) ON CONFLICT (friendly_name) DO NOTHING", null, ("name", friendlyName), ("xml", xml));
        command.ExecuteNonQuery();
    }

    public async Task<bool> TryClaimDriftCheckAsync(string databaseKey, DateTimeOffset now, DateTimeOffset nextDue, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, """
            INSERT INTO drift_checks (database_key, connect_onboarding_id, findings, checked_at, due_at, notice, notice_sequence, notice_posted_sequence)
            VALUES (@key, '', '[]', 0, @due, NULL, 0, 0)
            ON CONFLICT (database_key) DO UPDATE SET due_at = excluded.due_at WHERE drift_checks.due_at <= @now
            """, null, ("key", databaseKey), ("due", Ms(nextDue)), ("now", Ms(now)));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    private const string DriftColumns = "database_key, connect_onboarding_id, findings, checked_at, due_at, notice, notice_sequence, notice_posted_sequence";

    private static DriftRecord ReadDrift(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), StateJson.Read<List<string>>(reader.GetString(2)), FromMs(reader.GetInt64(3)),
        reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetInt64(6), reader.GetInt64(7)) { DueAt = FromMs(reader.GetInt64(4)) };

    public async Task<DriftRecord?> GetDriftAsync(string databaseKey, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, $"SELECT {DriftColumns} FROM drift_checks WHERE database_key = @key", null, ("key", databaseKey));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadDrift(reader) : null;
    }

    public async Task<IReadOnlyList<DriftRecord>> ListDriftAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, $"SELECT {DriftColumns} FROM drift_checks ORDER BY database_key");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<DriftRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) records.Add(ReadDrift(reader));
        return records;
    }

    public async Task SaveDriftAsync(DriftRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // The due time stays as claimed; the posted sequence never moves backwards (a poster may have marked it meanwhile).
        await using var command = Command(connection, """
            INSERT INTO drift_checks (database_key, connect_onboarding_id, findings, checked_at, due_at, notice, notice_sequence, notice_posted_sequence)
            VALUES (@key, @connect, @findings, @checked, @due, @notice, @sequence, @posted)
            ON CONFLICT (database_key) DO UPDATE SET connect_onboarding_id = excluded.connect_onboarding_id, findings = excluded.findings,
                checked_at = excluded.checked_at, notice = excluded.notice, notice_sequence = excluded.notice_sequence,
                notice_posted_sequence = CASE WHEN drift_checks.notice_posted_sequence > excluded.notice_posted_sequence
                    THEN drift_checks.notice_posted_sequence ELSE excluded.notice_posted_sequence END
            """, null, ("key", record.DatabaseKey), ("connect", record.ConnectOnboardingId), ("findings", StateJson.Write(record.Findings)),
            ("checked", Ms(record.CheckedAt)), ("due", Ms(record.DueAt ?? record.CheckedAt)), ("notice", record.Notice),
            ("sequence", record.NoticeSequence), ("posted", record.NoticePostedSequence));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task MarkDriftNoticePostedAsync(string databaseKey, long noticeSequence, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection,
            "UPDATE drift_checks SET notice_posted_sequence = @sequence WHERE database_key = @key AND notice_posted_sequence < @sequence", null,
            ("key", databaseKey), ("sequence", noticeSequence));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops every lease: only safe when this process is the only node (SQLite), at start-up.</summary>
    public async Task ClearLeasesAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, "DELETE FROM leases");
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
