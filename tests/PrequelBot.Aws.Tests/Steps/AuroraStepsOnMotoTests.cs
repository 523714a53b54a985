using Amazon.EC2.Model;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>Aurora PostgreSQL against moto's RDS cluster API (CreateDBCluster, DescribeDBClusters, ModifyDBCluster, CreateDBInstance in a cluster).</summary>
public sealed class AuroraStepsOnMotoTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    private const string Ip = "35.192.85.117";
    private readonly AwsStepsHarness _harness = new(moto, Ip);

    private Task<SeededCluster> SeedClusterAsync(int readers = 0, DefaultRoute route = DefaultRoute.InternetGateway) =>
        _harness.SeedClusterAsync(readers, route);

    private static StepContext Context(string step, SeededCluster cluster, OnboardingFacts facts, bool replica = false, string? reader = null, bool preview = false,
        string? securityGroupId = null) => new()
    {
        OnboardingId = "ob-aurora1",
        StepName = step,
        Request = new OnboardingRequest
        {
            DatabaseAlias = "auroradb",
            InstanceIdentifier = cluster.ClusterId,
            ClusterIdentifier = cluster.ClusterId,
            SourceName = "auroradb",
            Replica = replica,
            ReplicaId = replica ? cluster.ClusterId + "-prequel-reader" : null,
            ReaderId = reader,
            SecurityGroupId = securityGroupId,
        },
        Facts = facts,
        IsPreview = preview,
        StartedAt = DateTimeOffset.UtcNow,
    };

    private IStepHandler[] ReplicaSteps => [_harness.Discover, _harness.CreateReplica, _harness.WaitReplica, _harness.PublicAccess, _harness.SecurityGroup, _harness.NetworkAcl];

    [Fact]
    public async Task Discover_names_the_writer_and_readers_and_warns_when_prequel_would_use_the_writer()
    {
        var cluster = await SeedClusterAsync(readers: 1);
        var facts = new OnboardingFacts();

        var result = await _harness.Discover.ApplyAsync(Context(StepNames.Discover, cluster, facts), TestContext.Current);

        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.Contains($"Aurora cluster {cluster.ClusterId}: writer {cluster.WriterId}", result.Message, StringComparison.Ordinal);
        Assert.Contains($"readers {cluster.ReaderIds[0]}", result.Message, StringComparison.Ordinal);
        Assert.Contains("Prequel's load will land on the writer", result.Message, StringComparison.Ordinal);
        Assert.Equal(cluster.WriterId, facts.Source!.InstanceIdentifier);
        Assert.Equal(cluster.WriterId, facts.Target!.InstanceIdentifier);
        Assert.Equal(cluster.Network.SubnetIds, facts.Target.SubnetIds);
        Assert.Equal(cluster.Network.VpcId, facts.Target.VpcId);
        Assert.Equal([cluster.ReaderIds[0]], facts.Cluster!.ReaderInstanceIdentifiers);
        Assert.Contains(".cluster-ro-", facts.Cluster.ReaderEndpoint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replica_adds_a_public_tagged_reader_with_the_writer_class_and_the_writer_stays_private_and_unchanged()
    {
        var cluster = await SeedClusterAsync();
        var facts = new OnboardingFacts();
        var writerBefore = await moto.Rds.DescribeDBInstanceAsync(cluster.WriterId, TestContext.Current);

        await AwsStepsHarness.RunAsync(ReplicaSteps, step => Context(step, cluster, facts, replica: true));

        var readerId = cluster.ClusterId + "-prequel-reader";
        var reader = await moto.Rds.DescribeDBInstanceAsync(readerId, TestContext.Current);
        Assert.NotNull(reader);
        Assert.Equal((cluster.ClusterId, "aurora-postgresql", "db.r6g.large", true), (reader.ClusterIdentifier, reader.Engine, reader.InstanceClass, reader.PubliclyAccessible));
        Assert.Equal("prequelbot", reader.Tags["managed-by"]);
        var liveCluster = await moto.Rds.DescribeDBClusterAsync(cluster.ClusterId, TestContext.Current);
        Assert.Equal([cluster.WriterId, readerId], liveCluster!.Members.Select(m => m.InstanceIdentifier));
        Assert.Equal(cluster.WriterId, liveCluster.WriterIdentifier);
        var writerAfter = await moto.Rds.DescribeDBInstanceAsync(cluster.WriterId, TestContext.Current);
        Assert.False(writerAfter!.PubliclyAccessible);
        Assert.Equal((writerBefore!.InstanceClass, writerBefore.Status, writerBefore.EndpointAddress), (writerAfter.InstanceClass, writerAfter.Status, writerAfter.EndpointAddress));
        Assert.Equal(readerId, facts.Target!.InstanceIdentifier);
        Assert.Equal(reader.EndpointAddress, facts.Target.EndpointAddress);
        Assert.DoesNotContain(".cluster-", facts.Target.EndpointAddress, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_dedicated_group_is_added_to_the_cluster_and_the_cluster_groups_are_otherwise_unchanged()
    {
        var cluster = await SeedClusterAsync();
        var facts = new OnboardingFacts();

        await AwsStepsHarness.RunAsync(ReplicaSteps, step => Context(step, cluster, facts, replica: true));

        var groups = (await moto.Rds.DescribeDBClusterAsync(cluster.ClusterId, TestContext.Current))!.SecurityGroupIds;
        Assert.Equal(2, groups.Count);
        Assert.Equal(cluster.Network.SecurityGroupId, groups[0]);
        var dedicated = (await moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [groups[1]] }, TestContext.Current)).SecurityGroups.Single();
        Assert.Equal($"prequelbot-{cluster.ClusterId}-prequel-reader", dedicated.GroupName);
        Assert.Equal([$"{Ip}/32"], dedicated.IpPermissions.SelectMany(p => p.Ipv4Ranges).Select(r => r.CidrIp));
        var shared = (await moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [cluster.Network.SecurityGroupId] }, TestContext.Current)).SecurityGroups.Single();
        Assert.Empty(shared.IpPermissions ?? []);
    }

    [Fact]
    public async Task A_second_run_changes_nothing()
    {
        var cluster = await SeedClusterAsync();
        var first = new OnboardingFacts();
        await AwsStepsHarness.RunAsync(ReplicaSteps, step => Context(step, cluster, first, replica: true));
        var groupsBefore = (await moto.Rds.DescribeDBClusterAsync(cluster.ClusterId, TestContext.Current))!.SecurityGroupIds;

        var facts = new OnboardingFacts();
        var plans = await AwsStepsHarness.RunAsync(ReplicaSteps, step => Context(step, cluster, facts, replica: true));

        Assert.All(plans.Skip(1), p => Assert.False(p.HasChanges, string.Join("; ", p.Changes)));
        Assert.Equal(groupsBefore, (await moto.Rds.DescribeDBClusterAsync(cluster.ClusterId, TestContext.Current))!.SecurityGroupIds);
        Assert.Equal(2, (await moto.Rds.DescribeDBClusterAsync(cluster.ClusterId, TestContext.Current))!.Members.Count);
    }

    [Fact]
    public async Task The_plan_of_the_reader_and_the_group_names_the_cluster()
    {
        var cluster = await SeedClusterAsync();
        var facts = new OnboardingFacts();
        await _harness.Discover.ApplyAsync(Context(StepNames.Discover, cluster, facts, replica: true, preview: true), TestContext.Current);

        var create = await _harness.CreateReplica.PlanAsync(Context(StepNames.CreateReplica, cluster, facts, replica: true, preview: true), TestContext.Current);
        var group = await _harness.SecurityGroup.PlanAsync(Context(StepNames.SecurityGroup, cluster, facts, replica: true, preview: true), TestContext.Current);

        Assert.StartsWith($"add reader {cluster.ClusterId}-prequel-reader to Aurora cluster {cluster.ClusterId} (CreateDBInstance, aurora-postgresql, db.r6g.large, publicly accessible", create.Changes.Single(), StringComparison.Ordinal);
        Assert.Contains($"to Aurora cluster {cluster.ClusterId}'s security groups (ModifyDBCluster VpcSecurityGroupIds = {cluster.Network.SecurityGroupId} + prequelbot-", group.Changes[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reader_uses_an_existing_reader_and_makes_only_it_public()
    {
        var cluster = await SeedClusterAsync(readers: 2);
        var facts = new OnboardingFacts();
        var reader = cluster.ReaderIds[1];

        var plans = await AwsStepsHarness.RunAsync([_harness.Discover, _harness.PublicAccess], step => Context(step, cluster, facts, reader: reader));

        Assert.Equal(reader, facts.Target!.InstanceIdentifier);
        Assert.True((await moto.Rds.DescribeDBInstanceAsync(reader, TestContext.Current))!.PubliclyAccessible);
        Assert.False((await moto.Rds.DescribeDBInstanceAsync(cluster.ReaderIds[0], TestContext.Current))!.PubliclyAccessible);
        Assert.False((await moto.Rds.DescribeDBInstanceAsync(cluster.WriterId, TestContext.Current))!.PubliclyAccessible);
        Assert.Equal($"make {reader} publicly accessible (ModifyDBInstance PubliclyAccessible=true, applied immediately)", plans[1].Changes.Single());
    }

    [Theory]
    [InlineData("writer")]
    [InlineData("unknown")]
    public async Task Reader_that_is_not_a_reader_of_the_cluster_fails_naming_the_readers(string which)
    {
        var cluster = await SeedClusterAsync(readers: 1);
        var named = which == "writer" ? cluster.WriterId : "someone-else";

        var error = await Assert.ThrowsAsync<StepFailedException>(() => _harness.Discover.ApplyAsync(Context(StepNames.Discover, cluster, new OnboardingFacts(), reader: named), TestContext.Current));

        Assert.Equal($"{named} is not a reader of Aurora cluster {cluster.ClusterId} (writer {cluster.WriterId}; readers: {cluster.ReaderIds[0]}); name one of its readers with --reader, or use --replica to add one", error.Message);
    }

    [Fact]
    public async Task A_cluster_in_nat_only_subnets_gets_no_reader()
    {
        var cluster = await SeedClusterAsync(route: DefaultRoute.NatGateway);
        var facts = new OnboardingFacts();
        await _harness.Discover.ApplyAsync(Context(StepNames.Discover, cluster, facts, replica: true), TestContext.Current);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => _harness.CreateReplica.ApplyAsync(Context(StepNames.CreateReplica, cluster, facts, replica: true), TestContext.Current));

        Assert.Contains("would not be reachable from the internet", error.Message, StringComparison.Ordinal);
        Assert.Contains($"Aurora cluster {cluster.ClusterId}'s instances stay in its DB subnet group", error.Message, StringComparison.Ordinal);
        Assert.Null(await moto.Rds.DescribeDBInstanceAsync(cluster.ClusterId + "-prequel-reader", TestContext.Current));
    }

    [Fact]
    public async Task An_instance_alias_that_is_a_cluster_member_is_discovered_as_its_cluster()
    {
        var cluster = await SeedClusterAsync(readers: 1);
        var facts = new OnboardingFacts();

        var result = await _harness.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, cluster.ReaderIds[0], facts), TestContext.Current);

        Assert.Contains($"Aurora cluster {cluster.ClusterId}: writer {cluster.WriterId}", result.Message, StringComparison.Ordinal);
        Assert.Equal(cluster.WriterId, facts.Source!.InstanceIdentifier);
    }

    [Fact]
    public async Task Security_group_option_puts_the_rules_on_that_cluster_group()
    {
        var cluster = await SeedClusterAsync();
        var facts = new OnboardingFacts();
        await _harness.Discover.ApplyAsync(Context(StepNames.Discover, cluster, facts), TestContext.Current);

        var plan = await _harness.SecurityGroup.PlanAsync(Context(StepNames.SecurityGroup, cluster, facts, securityGroupId: cluster.Network.SecurityGroupId), TestContext.Current);

        Assert.Equal([$"add inbound TCP 5432 from {Ip}/32 to {cluster.Network.SecurityGroupId}"], plan.Changes);
    }
}
