using Npgsql;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Bench.Workflow;

/// <summary>
/// One fake world for several node processes: the effects of <see cref="FakeInfrastructure"/> (the "AWS / database /
/// Prequel" side of the in-memory step handlers) are mirrored in a table of the run's PostgreSQL database, which every
/// node already shares. Before each Plan/Apply/Verify a node adds the effects other nodes created; after Apply it
/// writes the effects the call created and deletes the ones it removed. Without it, <c>verify-access</c> on the node
/// that did not run <c>create-user</c> answered "the user does not exist" and the two-node run never completed.
/// </summary>
internal sealed class SharedEffects(string connectionString)
{
    private const string Table = "bench_fake_effects";
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    public static async Task CreateTableAsync(string connectionString)
    {
        await using var source = NpgsqlDataSource.Create(connectionString);
        await using var create = source.CreateCommand($"CREATE TABLE IF NOT EXISTS {Table} (key text PRIMARY KEY, n int NOT NULL)");
        await create.ExecuteNonQueryAsync();
    }

    public IStepHandler Wrap(IStepHandler inner, FakeInfrastructure world) => new Handler(inner, world, this);

    private async Task PullAsync(FakeInfrastructure world, CancellationToken cancellationToken)
    {
        await using var query = _source.CreateCommand($"SELECT key, n FROM {Table}");
        await using var reader = await query.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) world.Effects[reader.GetString(0)] = reader.GetInt32(1);
    }

    /// <summary>
    /// Writes the effects Apply created or changed and deletes the ones it removed (compared with
    /// <paramref name="before"/>). Only the difference: the node's world holds every effect pulled so far, and writing
    /// all of them after each Apply grew with the number of onboardings (hundreds of upserts per Apply at 200).
    /// </summary>
    private async Task PushAsync(FakeInfrastructure world, Dictionary<string, int> before)
    {
        await using var batch = _source.CreateBatch();
        foreach (var (key, n) in world.Effects)
        {
            if (before.TryGetValue(key, out var old) && old == n) continue;
            var upsert = new NpgsqlBatchCommand($"INSERT INTO {Table} (key, n) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET n = GREATEST({Table}.n, EXCLUDED.n)");
            upsert.Parameters.Add(new NpgsqlParameter { Value = key });
            upsert.Parameters.Add(new NpgsqlParameter { Value = n });
            batch.BatchCommands.Add(upsert);
        }
        foreach (var gone in before.Keys.Where(k => !world.Effects.ContainsKey(k)))
        {
            var delete = new NpgsqlBatchCommand($"DELETE FROM {Table} WHERE key = $1");
            delete.Parameters.Add(new NpgsqlParameter { Value = gone });
            batch.BatchCommands.Add(delete);
        }
        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private sealed class Handler(IStepHandler inner, FakeInfrastructure world, SharedEffects shared) : IStepHandler
    {
        public string StepName => inner.StepName;

        public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
        {
            await shared.PullAsync(world, cancellationToken);
            return await inner.PlanAsync(context, cancellationToken);
        }

        public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
        {
            await shared.PullAsync(world, cancellationToken);
            var before = world.Effects.ToDictionary();
            var result = await inner.ApplyAsync(context, cancellationToken);
            await shared.PushAsync(world, before);
            return result;
        }

        public async Task<StepResult> VerifyAsync(StepContext context, CancellationToken cancellationToken)
        {
            await shared.PullAsync(world, cancellationToken);
            return await inner.VerifyAsync(context, cancellationToken);
        }
    }
}
