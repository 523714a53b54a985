using Amazon.EC2.Model;
using Npgsql;
using PrequelBot.Aws.Tests.Steps;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

/// <summary>
/// Aurora PostgreSQL through the real host and the real adapters (docs/aws.md, "Aurora PostgreSQL"): the cluster in
/// moto (CreateDBCluster, a private writer), the test run's PostgreSQL standing in for the writer that create-user and
/// verify-access reach through <c>AdminConnectionString</c>, and the fake Prequel API.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class AuroraHostTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-aurora-" + Guid.NewGuid().ToString("N"));
    private RealWorld _world = null!;
    private SeededCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _world = await RealWorld.CreateAsync();
        _cluster = await new AwsStepsHarness(_world.Moto, RealWorld.StaticIps).SeedClusterAsync(readers: 1);
    }

    public async Task DisposeAsync()
    {
        await _world.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private Dictionary<string, string?> Settings()
    {
        var settings = _world.Settings(BotHost.Sqlite(_directory));
        settings["Databases:auroradb:ClusterIdentifier"] = _cluster.ClusterId;
        settings["Databases:auroradb:AdminConnectionString"] = _world.Source.AdminConnectionString;
        return settings;
    }

    private string Connect => $"connect auroradb --replica --schemas public,sales --user {_world.Source.ReaderRole}";

    private string NewReader => _cluster.ClusterId + "-prequel-reader";

    [Fact]
    public async Task Connect_with_replica_adds_a_public_tagged_reader_that_prequel_uses_and_a_rerun_changes_nothing()
    {
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        await using var host = new BotHost(Settings(), world: null, chat);
        var writerBefore = (await _world.Moto.Rds.DescribeDBInstanceAsync(_cluster.WriterId, CancellationToken.None))!;

        var id = (await host.SayAsync(Connect)).StartedOnboardingId!;
        await RealWorld.ApproveUntilCompletedAsync(host, chat, id);

        // A new reader in the cluster: public, tagged, the writer's class.
        var cluster = (await _world.Moto.Rds.DescribeDBClusterAsync(_cluster.ClusterId, CancellationToken.None))!;
        Assert.Contains(cluster.Members, m => m.InstanceIdentifier == NewReader && !m.IsWriter);
        var reader = (await _world.Moto.Rds.DescribeDBInstanceAsync(NewReader, CancellationToken.None))!;
        Assert.True(reader.PubliclyAccessible);
        Assert.Equal(_cluster.ClusterId, reader.ClusterIdentifier);
        Assert.Equal("prequelbot", reader.Tags["managed-by"]);
        Assert.Equal(writerBefore.InstanceClass, reader.InstanceClass);

        // The writer is unchanged and private; the existing reader too.
        var writer = (await _world.Moto.Rds.DescribeDBInstanceAsync(_cluster.WriterId, CancellationToken.None))!;
        Assert.False(writer.PubliclyAccessible);
        Assert.Equal((writerBefore.InstanceClass, writerBefore.EndpointAddress), (writer.InstanceClass, writer.EndpointAddress));
        Assert.False((await _world.Moto.Rds.DescribeDBInstanceAsync(_cluster.ReaderIds[0], CancellationToken.None))!.PubliclyAccessible);

        // The dedicated group is on the cluster (ModifyDBCluster), next to the cluster's own group, which is untouched.
        var dedicated = cluster.SecurityGroupIds.Except([_cluster.Network.SecurityGroupId]).ToList();
        var group = Assert.Single((await _world.Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [.. dedicated] })).SecurityGroups);
        Assert.Contains(group.Tags, t => t.Key == "managed-by" && t.Value == "prequelbot");
        Assert.Contains(_cluster.Network.SecurityGroupId, cluster.SecurityGroupIds);

        // Prequel got the new reader's instance endpoint, never the cluster's reader endpoint.
        var source = Assert.Single(_world.Prequel.Sources);
        var host_ = source.Body["source"]!["postgres"]!["host"]!.GetValue<string>();
        Assert.Equal(reader.EndpointAddress, host_);
        Assert.NotEqual(cluster.ReaderEndpoint, host_);

        // The role (created through the writer) logs in with Prequel's password and cannot write.
        var password = _world.Prequel.PostedPassword()!;
        await using (var login = new NpgsqlConnection(_world.Source.ConnectionStringFor(_world.Source.ReaderRole, password)))
        {
            await login.OpenAsync();
            await using var insert = new NpgsqlCommand("INSERT INTO public.customers VALUES (3, 'Mallory')", login);
            Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, (await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync())).SqlState);
            await using (var off = new NpgsqlCommand("SET default_transaction_read_only = off", login)) await off.ExecuteNonQueryAsync();
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync())).SqlState);
        }

        // A second connect asks nothing and changes nothing.
        var second = (await host.SayAsync(Connect)).StartedOnboardingId!;
        await RealWorld.ApproveUntilCompletedAsync(host, chat, second);
        Assert.DoesNotContain(chat.Prompts, p => p.OnboardingId == second);
        var again = await host.LoadAsync(second);
        foreach (var step in new[] { StepNames.CreateReplica, StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource })
        {
            Assert.Equal((step, StepState.AlreadyInPlace), (step, again.Step(step).State));
        }
        Assert.Equal(1, _world.Prequel.Posts);
        var after = (await _world.Moto.Rds.DescribeDBClusterAsync(_cluster.ClusterId, CancellationToken.None))!;
        Assert.Equal(cluster.Members.Count, after.Members.Count);
        Assert.Equal(cluster.SecurityGroupIds, after.SecurityGroupIds);
    }

    [Fact]
    public async Task Plan_names_the_writer_the_readers_and_the_instance_prequel_will_use()
    {
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        await using var host = new BotHost(Settings(), world: null, chat);

        var plain = (await host.SayAsync("plan auroradb")).Plan!;
        var replica = (await host.SayAsync("plan auroradb --replica")).Plan!;

        var text = PlanText(plain);
        Assert.Contains(_cluster.WriterId, text, StringComparison.Ordinal);
        Assert.Contains(_cluster.ReaderIds[0], text, StringComparison.Ordinal);
        Assert.Contains("writer", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(NewReader, PlanText(replica), StringComparison.Ordinal);
        Assert.Empty(chat.Prompts); // plan asks nobody and changes nothing
        Assert.DoesNotContain((await _world.Moto.Rds.DescribeDBClusterAsync(_cluster.ClusterId, CancellationToken.None))!.Members, m => m.InstanceIdentifier == NewReader);
    }

    private static string PlanText(Workflows.Chat.PlanView plan) =>
        string.Join("\n", new[] { plan.Target }.Concat(plan.Steps.SelectMany(s => s.Changes.Append(s.Note ?? "").Append(s.Detail ?? ""))));
}
