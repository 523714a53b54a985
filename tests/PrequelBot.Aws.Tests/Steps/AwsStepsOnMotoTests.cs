using Amazon.EC2;
using Amazon.EC2.Model;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>The AWS steps against moto (shared state: every test seeds its own uniquely named VPC and instance).</summary>
public sealed class AwsStepsOnMotoTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    private const string Ip1 = "35.192.85.117";
    private const string Ip2 = "34.66.12.34";

    private readonly AwsStepsHarness _steps = new(moto, Ip1, Ip2);

    private static NetworkAclEntry Entry(int number, bool egress, string action, string protocol = "-1", string cidr = "0.0.0.0/0", int? from = null, int? to = null) => new()
    {
        RuleNumber = number, Egress = egress, RuleAction = action, Protocol = protocol, CidrBlock = cidr,
        PortRange = from is null ? null : new PortRange { From = from, To = to },
    };

    private IStepHandler[] OpeningSteps => [_steps.PublicAccess, _steps.SecurityGroup, _steps.NetworkAcl];

    private async Task<OnboardingFacts> DiscoverAsync(string instanceId, bool replica = false, bool preview = false)
    {
        var facts = new OnboardingFacts();
        var result = await _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, instanceId, facts, replica, preview), TestContext.Current);
        Assert.Equal(StepOutcome.Done, result.Outcome);
        return facts;
    }

    private async Task<IReadOnlyList<NetworkAclEntry>> AclEntriesAsync(string aclId) =>
        (await moto.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { NetworkAclIds = [aclId] }, TestContext.Current)).NetworkAcls.Single().Entries ?? [];

    private async Task<IReadOnlyList<IpPermission>> IngressAsync(string groupId) =>
        (await moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [groupId] }, TestContext.Current)).SecurityGroups.Single().IpPermissions ?? [];

    [Fact]
    public async Task Discover_records_the_instance_network_in_source_and_target()
    {
        var db = await _steps.SeedAsync();

        var facts = await DiscoverAsync(db.InstanceId);

        Assert.NotNull(facts.Source);
        Assert.Equal((db.InstanceId, "postgres", db.VpcId, 5432, false), (facts.Source.InstanceIdentifier, facts.Source.Engine, facts.Source.VpcId, facts.Source.Port, facts.Source.PubliclyAccessible));
        Assert.Equal([db.SecurityGroupId], facts.Source.SecurityGroupIds);
        Assert.Equal(db.SubnetIds.Order(), facts.Source.SubnetIds.Order());
        Assert.Same(facts.Source, facts.Target);
    }

    [Fact]
    public async Task Fresh_onboarding_opens_the_instance_and_a_second_run_creates_nothing()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = await DiscoverAsync(db.InstanceId);

        var first = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        Assert.Equal($"make {db.InstanceId} publicly accessible (ModifyDBInstance PubliclyAccessible=true, applied immediately)", Assert.Single(first[0].Changes));
        Assert.Equal([$"add inbound TCP 5432 from {Ip2}/32 to {db.SecurityGroupId}", $"add inbound TCP 5432 from {Ip1}/32 to {db.SecurityGroupId}"], first[1].Changes);
        Assert.Equal(3, first[2].Changes.Count);
        Assert.True((await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!.PubliclyAccessible);
        var ingress = await IngressAsync(db.SecurityGroupId);
        Assert.Equal([$"{Ip2}/32", $"{Ip1}/32"], ingress.SelectMany(p => p.Ipv4Ranges).Select(r => r.CidrIp).Order());
        Assert.All(ingress.SelectMany(p => p.Ipv4Ranges), r => Assert.Equal("Prequel static IP (PrequelBot ob-test1)", r.Description));
        var entries = await AclEntriesAsync(db.CustomAclId!);
        Assert.Equal(3, entries.Count);

        var second = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));
        foreach (var handler in OpeningSteps)
        {
            await handler.ApplyAsync(AwsStepsHarness.Context(handler.StepName, db.InstanceId, facts), TestContext.Current);
        }

        Assert.All(second, plan => Assert.False(plan.HasChanges));
        Assert.Equal(2, (await IngressAsync(db.SecurityGroupId)).SelectMany(p => p.Ipv4Ranges).Count());
        Assert.Equal(3, (await AclEntriesAsync(db.CustomAclId!)).Count);
    }

    [Fact]
    public async Task Existing_covering_rules_and_a_public_instance_ask_nothing()
    {
        var db = await _steps.SeedAsync(publiclyAccessible: true,
            ingress: [new IpPermission { IpProtocol = "tcp", FromPort = 5432, ToPort = 5432, Ipv4Ranges = [new IpRange { CidrIp = "35.192.0.0/16" }, new IpRange { CidrIp = "34.66.0.0/16" }] }],
            customAcl: [Entry(100, false, RuleAction.Allow), Entry(100, true, RuleAction.Allow, "6", "0.0.0.0/0", 0, 65535)]);
        var facts = await DiscoverAsync(db.InstanceId);

        var plans = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        Assert.All(plans, plan => Assert.Empty(plan.Changes));
        Assert.Contains("35.192.0.0/16 already covers 35.192.85.117", plans[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restrictive_acl_with_a_deny_all_gets_entries_below_the_deny()
    {
        var db = await _steps.SeedAsync(customAcl:
        [
            Entry(50, false, RuleAction.Allow, "6", "10.0.0.0/8", 22, 22),
            Entry(100, false, RuleAction.Deny), Entry(100, true, RuleAction.Deny),
            Entry(32767, false, RuleAction.Deny), Entry(32767, true, RuleAction.Deny),
        ]);
        var facts = await DiscoverAsync(db.InstanceId);

        var plans = await AwsStepsHarness.RunAsync([_steps.NetworkAcl], step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        Assert.Equal(
        [
            $"add to {db.CustomAclId} rule 60: inbound allow TCP 5432 from {Ip2}/32",
            $"add to {db.CustomAclId} rule 70: inbound allow TCP 5432 from {Ip1}/32",
            $"add to {db.CustomAclId} rule 10: outbound allow TCP 1024-65535 to 0.0.0.0/0",
        ], plans[0].Changes);
        var created = (await AclEntriesAsync(db.CustomAclId!)).Where(e => e.RuleAction == RuleAction.Allow && e.RuleNumber != 50).ToList();
        Assert.Equal([(false, 60), (false, 70), (true, 10)], created.Select(e => (e.Egress ?? false, e.RuleNumber ?? 0)).OrderBy(x => x.Item1).ThenBy(x => x.Item2));
        Assert.False((await _steps.NetworkAcl.PlanAsync(AwsStepsHarness.Context(StepNames.NetworkAcl, db.InstanceId, facts), TestContext.Current)).HasChanges);
    }

    [Fact]
    public async Task Replica_path_creates_waits_and_later_steps_target_the_replica()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var replicaId = db.InstanceId + "-prequel-replica";
        var facts = await DiscoverAsync(db.InstanceId, replica: true);
        Assert.Null(facts.Target);

        var plans = await AwsStepsHarness.RunAsync([_steps.CreateReplica, _steps.WaitReplica],
            step => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true));
        var opening = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true));

        Assert.StartsWith($"create read replica {replicaId} of {db.InstanceId} (db.t3.micro, publicly accessible", Assert.Single(plans[0].Changes), StringComparison.Ordinal);
        Assert.Equal(replicaId, facts.Target?.InstanceIdentifier);
        Assert.Equal("available", facts.Target?.Status);
        Assert.Equal(db.InstanceId, facts.Source?.InstanceIdentifier);
        var replica = await moto.Rds.DescribeDBInstanceAsync(replicaId, TestContext.Current);
        Assert.True(replica!.IsReplicaOf(db.InstanceId));
        Assert.Equal("prequelbot", replica.Tags["managed-by"]);
        Assert.False(opening[0].HasChanges);
        Assert.Equal(2, opening[1].Changes.Count);
        Assert.False((await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!.PubliclyAccessible);

        var again = await _steps.CreateReplica.PlanAsync(AwsStepsHarness.Context(StepNames.CreateReplica, db.InstanceId, facts, replica: true), TestContext.Current);
        Assert.False(again.HasChanges);
    }

    [Fact]
    public async Task Preview_with_replica_predicts_the_replica_as_target()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = await DiscoverAsync(db.InstanceId, replica: true, preview: true);

        var publicAccess = await _steps.PublicAccess.PlanAsync(AwsStepsHarness.Context(StepNames.PublicAccess, db.InstanceId, facts, replica: true, preview: true), TestContext.Current);
        var securityGroup = await _steps.SecurityGroup.PlanAsync(AwsStepsHarness.Context(StepNames.SecurityGroup, db.InstanceId, facts, replica: true, preview: true), TestContext.Current);

        Assert.False(publicAccess.HasChanges);
        Assert.Contains("-prequel-replica is created publicly accessible", publicAccess.Detail, StringComparison.Ordinal);
        Assert.Equal(2, securityGroup.Changes.Count);
        Assert.Null(await moto.Rds.DescribeDBInstanceAsync(db.InstanceId + "-prequel-replica", TestContext.Current));
    }

    [Fact]
    public async Task Replica_id_taken_by_an_unrelated_instance_fails_clearly()
    {
        var db = await _steps.SeedAsync();
        var other = await _steps.SeedAsync();
        var facts = await DiscoverAsync(db.InstanceId);
        var context = AwsStepsHarness.Context(StepNames.CreateReplica, db.InstanceId, facts);
        var taken = new StepContext
        {
            OnboardingId = "ob-test1", StepName = StepNames.CreateReplica, Facts = facts,
            Request = context.Request with { Replica = true, ReplicaId = other.InstanceId },
        };

        var error = await Assert.ThrowsAsync<StepFailedException>(() => _steps.CreateReplica.PlanAsync(taken, TestContext.Current));

        Assert.Equal($"An RDS instance named {other.InstanceId} already exists and is not a read replica of {db.InstanceId}; choose another id with --replica-id", error.Message);
    }

    [Fact]
    public async Task Unknown_instance_fails_discover_with_its_name_and_region()
    {
        var missing = AwsStepsHarness.UniqueName("missing");

        var error = await Assert.ThrowsAsync<StepFailedException>(() =>
            _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, missing, new OnboardingFacts()), TestContext.Current));

        Assert.Equal($"No RDS instance named {missing} in {moto.Endpoint.Region}", error.Message);
    }

    [Fact]
    public async Task MySql_instance_fails_discover()
    {
        var db = await _steps.SeedAsync(engine: "mysql");

        var error = await Assert.ThrowsAsync<StepFailedException>(() =>
            _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, db.InstanceId, new OnboardingFacts()), TestContext.Current));

        Assert.Equal($"{db.InstanceId} runs mysql; PrequelBot connects PostgreSQL only", error.Message);
    }

    [Fact]
    public async Task Missing_static_ips_fail_discover_before_any_change()
    {
        var db = await _steps.SeedAsync();
        var noIps = new AwsStepsHarness(moto);

        var error = await Assert.ThrowsAsync<StepFailedException>(() =>
            noIps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, db.InstanceId, new OnboardingFacts()), TestContext.Current));

        Assert.StartsWith("Prequel:StaticIps is not configured", error.Message, StringComparison.Ordinal);
    }
}
