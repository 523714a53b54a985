using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PrequelBot.Prequel.Tests;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

/// <summary>
/// A whole onboarding with the real adapters, on each storage provider, while everything the bot writes is captured:
/// every log line (Trace, with exceptions), every chat payload, every row of the state store, Hangfire's jobs and states.
/// The generated password (as Prequel received it), the Prequel API key and the admin password must appear in none of it.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class SecretLeakTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-leak-" + Guid.NewGuid().ToString("N"));
    private readonly string _stateDatabase = TestEnvironment.UniqueName("leak");
    private bool _usedPostgres;
    private RealWorld _world = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _world = await RealWorld.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _world.DisposeAsync();
        if (_usedPostgres) await BotHost.DropPostgresAsync(_stateDatabase);
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task No_secret_reaches_logs_chat_state_or_job_storage(string provider)
    {
        var (id, captured) = await OnboardCapturingEverythingAsync(provider, async (host, chat, replies) =>
        {
            var connect = await host.SayAsync(_world.ConnectCommand);
            replies.Add(connect);
            await RealWorld.ApproveUntilCompletedAsync(host, chat, connect.StartedOnboardingId!);
            return connect.StartedOnboardingId!;
        });

        await AssertNoSecretAsync(id, captured);
    }

    [Fact]
    public async Task A_Prequel_failure_that_echoes_the_key_is_shown_redacted_and_a_retry_completes_without_leaking()
    {
        _world.Prequel.Script.Enqueue(new ScriptedResponse("POST", 403, $"API key {_world.ApiKey} may not create sources"));

        var (id, captured) = await OnboardCapturingEverythingAsync("Sqlite", async (host, chat, replies) =>
        {
            var connect = await host.SayAsync(_world.ConnectCommand);
            replies.Add(connect);
            var id = connect.StartedOnboardingId!;
            await RealWorld.ApproveUntilAsync(host, chat, id, OnboardingState.Failed);
            Assert.Equal(StepState.Failed, (await host.LoadAsync(id)).Step(StepNames.RegisterSource).State);
            await BotHost.EventuallyAsync(() => Task.FromResult(chat.Cards.Any(c => c.State == OnboardingStates.Failed)), "the card shows the failure");
            replies.Add(await host.SayAsync($"retry {id}"));
            await RealWorld.ApproveUntilCompletedAsync(host, chat, id);
            return id;
        });

        Assert.Single(_world.Prequel.Sources);
        Assert.Contains("may not create sources", captured["chat"], StringComparison.Ordinal); // Prequel's message is shown…
        Assert.Contains("[redacted]", captured["chat"], StringComparison.Ordinal);           // …with the key taken out
        await AssertNoSecretAsync(id, captured);
    }

    /// <summary>
    /// Runs <paramref name="drive"/> on a host with the real adapters and returns the onboarding id and everything the bot wrote:
    /// "chat" (every payload and command reply), "job storage" (Hangfire's monitoring view), "state store" (every row) and "logs".
    /// </summary>
    private async Task<(string Id, Dictionary<string, string> Captured)> OnboardCapturingEverythingAsync(
        string provider, Func<BotHost, RecordingChatPlatform, List<CommandReply>, Task<string>> drive)
    {
        var storage = provider == "Sqlite" ? BotHost.Sqlite(_directory) : await PostgresStorageAsync();
        var logs = new CapturingLoggerProvider();
        var recording = new RecordingChatPlatform(BotHost.TestPlatform);
        var chat = new CapturingChatPlatform(recording);
        var captured = new Dictionary<string, string>();
        var replies = new List<CommandReply>();
        string id;
        await using (var host = new BotHost(_world.Settings(storage), world: null, chat, s =>
                     {
                         s.AddSingleton<ILoggerProvider>(logs);
                         s.AddLogging(b => b.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));
                     }))
        {
            id = await drive(host, recording, replies);
            await BotHost.EventuallyAsync(() => Task.FromResult(recording.Cards.Any(c => c.State == OnboardingStates.Completed)),
                "the card shows the completed onboarding", TimeSpan.FromSeconds(60));
            replies.Add(await host.SayAsync($"status {id}"));
            replies.Add(await host.SayAsync("status"));

            captured["chat"] = string.Join("\n", chat.Payloads.Concat(replies.Select(r => JsonSerializer.Serialize(r))));
            captured["job storage"] = JobStorageText(host.Services.GetRequiredService<JobStorage>());
            captured["state store"] = provider == "Sqlite" ? SqliteText(storage["Storage:ConnectionString"]!) : await PostgresTextAsync(storage["Storage:ConnectionString"]!);
        }
        captured["logs"] = string.Join("\n", logs.Lines);
        return (id, captured);
    }

    private async Task AssertNoSecretAsync(string id, Dictionary<string, string> captured)
    {
        var password = _world.Prequel.PostedPassword()!;
        Assert.True(password.Length >= 32, "Prequel received the generated password");
        foreach (var (place, text) in captured)
        {
            Assert.True(text.Contains(id, StringComparison.Ordinal), $"the {place} capture holds the onboarding (the capture works)");
        }
        Assert.Contains(_world.Source.ReaderRole, captured["chat"], StringComparison.Ordinal);
        Assert.Contains(_world.Source.ReaderRole, captured["logs"], StringComparison.Ordinal);

        var forms = Encodings("the password", password).Concat(await ScramFormsAsync(password)).ToList();
        foreach (var (place, text) in captured)
        {
            foreach (var (what, value) in forms)
            {
                Assert.False(text.Contains(value, StringComparison.Ordinal), $"{what} appears in the {place}");
            }
            Assert.False(text.Contains("SCRAM-SHA-256$", StringComparison.Ordinal), $"a SCRAM verifier appears in the {place}");
            Assert.False(text.Contains(_world.ApiKey, StringComparison.Ordinal), $"the Prequel API key appears in the {place}");
            Assert.False(text.Contains(_world.Source.AdminPassword, StringComparison.Ordinal), $"the admin password appears in the {place}");
        }
    }

    private async Task<Dictionary<string, string?>> PostgresStorageAsync()
    {
        _usedPostgres = true;
        return await BotHost.PostgresAsync(_stateDatabase);
    }

    /// <summary>The secret as it is, as hex, and as (standard or URL-safe) base64 at each of the three byte alignments inside a longer value.</summary>
    private static IEnumerable<(string What, string Value)> Encodings(string what, string secret) => Encodings(what, Encoding.UTF8.GetBytes(secret)).Prepend((what, secret));

    private static IEnumerable<(string What, string Value)> Encodings(string what, byte[] secret)
    {
        yield return ($"{what} (hex)", Convert.ToHexString(secret));
        yield return ($"{what} (hex)", Convert.ToHexStringLower(secret));
        for (var offset = 0; offset < 3; offset++)
        {
            var encoded = Convert.ToBase64String([.. new byte[offset], .. secret]);
            var stable = encoded[(offset == 0 ? 0 : 4)..^4]; // the characters that depend on the secret's bytes only
            yield return ($"{what} (base64)", stable);
            yield return ($"{what} (base64url)", stable.Replace('+', '-').Replace('/', '_'));
        }
    }

    /// <summary>The reader's SCRAM-SHA-256 verifier on the server and what it is derived from (salted password, client key), in the forms above.</summary>
    private async Task<IEnumerable<(string What, string Value)>> ScramFormsAsync(string password)
    {
        var verifier = (string)(await SourceDatabase.SuperuserAsync("postgres", $"SELECT rolpassword FROM pg_authid WHERE rolname = '{_world.Source.ReaderRole}'"))!;
        Assert.StartsWith("SCRAM-SHA-256$4096:", verifier, StringComparison.Ordinal);
        var salt = Convert.FromBase64String(verifier.Split('$')[1].Split(':')[1]);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, 4096, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        Assert.Equal($"{Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}", verifier.Split('$')[2]); // the derivation is right
        return new[] { ("the SCRAM verifier", verifier) }
            .Concat(Encodings("the SCRAM salted password", salted))
            .Concat(Encodings("the SCRAM client key", clientKey))
            .Concat(Encodings("the SCRAM stored key", storedKey))
            .Concat(Encodings("the SCRAM server key", serverKey));
    }

    /// <summary>Every job Hangfire knows (any state) with its arguments, properties and the data of every state it went through.</summary>
    private static string JobStorageText(JobStorage storage)
    {
        var monitoring = storage.GetMonitoringApi();
        var ids = new HashSet<string>();
        ids.UnionWith(monitoring.SucceededJobs(0, 10_000).Select(j => j.Key));
        ids.UnionWith(monitoring.FailedJobs(0, 10_000).Select(j => j.Key));
        ids.UnionWith(monitoring.ScheduledJobs(0, 10_000).Select(j => j.Key));
        ids.UnionWith(monitoring.ProcessingJobs(0, 10_000).Select(j => j.Key));
        ids.UnionWith(monitoring.DeletedJobs(0, 10_000).Select(j => j.Key));
        foreach (var queue in monitoring.Queues())
        {
            ids.UnionWith(monitoring.EnqueuedJobs(queue.Name, 0, 10_000).Select(j => j.Key));
        }
        Assert.NotEmpty(ids);
        var text = new StringBuilder();
        using var connection = storage.GetConnection();
        foreach (var id in ids)
        {
            var details = monitoring.JobDetails(id);
            text.AppendLine($"job {id} {details?.Job?.Type.Name}.{details?.Job?.Method.Name}({string.Join(", ", details?.Job?.Args ?? [])})");
            text.AppendLine($"  invocation {details?.InvocationData?.Arguments} {details?.InvocationData?.ParameterTypes}");
            foreach (var (key, value) in details?.Properties ?? new Dictionary<string, string>()) text.AppendLine($"  property {key}={value}");
            foreach (var state in details?.History ?? [])
            {
                text.AppendLine($"  state {state.StateName} {state.Reason} {string.Join("; ", state.Data.Select(d => $"{d.Key}={d.Value}"))}");
            }
            if (connection.GetStateData(id) is { } current)
            {
                text.AppendLine($"  current {current.Name} {current.Reason} {string.Join("; ", current.Data.Select(d => $"{d.Key}={d.Value}"))}");
            }
        }
        return text.ToString();
    }

    /// <summary>Every row of every table of the SQLite state file as text, plus the raw bytes of the file and its WAL (deleted rows linger there).</summary>
    private static string SqliteText(string connectionString)
    {
        var file = new SqliteConnectionStringBuilder(connectionString).DataSource;
        var text = new StringBuilder();
        using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ConnectionString))
        {
            connection.Open();
            var tables = new List<string>();
            using (var list = connection.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table'";
                using var reader = list.ExecuteReader();
                while (reader.Read()) tables.Add(reader.GetString(0));
            }
            Assert.NotEmpty(tables);
            foreach (var table in tables)
            {
                using var select = connection.CreateCommand();
                select.CommandText = $"SELECT * FROM \"{table.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
                using var reader = select.ExecuteReader();
                while (reader.Read())
                {
                    var values = Enumerable.Range(0, reader.FieldCount).Select(i => reader.GetValue(i) switch
                    {
                        byte[] bytes => Encoding.Latin1.GetString(bytes),
                        var value => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
                    });
                    text.AppendLine($"{table}: {string.Join(" | ", values)}");
                }
            }
        }
        foreach (var path in new[] { file, file + "-wal", file + "-journal" }.Where(File.Exists))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var raw = new MemoryStream();
            stream.CopyTo(raw);
            text.AppendLine(Encoding.Latin1.GetString(raw.ToArray()));
        }
        return text.ToString();
    }

    /// <summary>Every row of every table of the state database's <c>public</c> (bot state) and <c>hangfire</c> schemas, cast to text.</summary>
    private static async Task<string> PostgresTextAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        var tables = new List<(string Schema, string Name)>();
        await using (var list = new NpgsqlCommand(
                         "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('public', 'hangfire') AND table_type = 'BASE TABLE'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) tables.Add((reader.GetString(0), reader.GetString(1)));
        }
        Assert.Contains(tables, t => t.Schema == "public");
        Assert.Contains(tables, t => t.Schema == "hangfire");
        var text = new StringBuilder();
        foreach (var (schema, name) in tables)
        {
            await using var select = new NpgsqlCommand($"SELECT t::text FROM \"{schema}\".\"{name}\" t", connection);
            await using var reader = await select.ExecuteReaderAsync();
            while (await reader.ReadAsync()) text.AppendLine($"{schema}.{name}: {reader.GetString(0)}");
        }
        return text.ToString();
    }
}
