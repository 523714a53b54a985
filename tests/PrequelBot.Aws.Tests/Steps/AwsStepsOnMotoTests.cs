using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using PrequelBot.Aws.Planning;
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

    private async Task<OnboardingFacts> DiscoverAsync(string instanceId, bool replica = false, bool preview = false, string? replicaSubnetGroup = null)
    {
        var facts = new OnboardingFacts();
        var result = await _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, instanceId, facts, replica, preview, replicaSubnetGroup: replicaSubnetGroup), TestContext.Current);
        Assert.Equal(StepOutcome.Done, result.Outcome);
        return facts;
    }

    private async Task<string?> DiscoverDetailAsync(string instanceId) =>
        (await _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, instanceId, new OnboardingFacts()), TestContext.Current)).Message;

    private async Task<SecurityGroup> GroupAsync(string groupId) =>
        (await moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [groupId] }, TestContext.Current)).SecurityGroups.Single();

    private async Task<IReadOnlyList<SecurityGroup>> DedicatedGroupsAsync(SeededDatabase db, string? target = null) =>
        (await moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest
        {
            Filters = [new Filter("vpc-id", [db.VpcId]), new Filter("tag:managed-by", ["prequelbot"]), new Filter("tag:prequelbot:target", [target ?? db.InstanceId])],
        }, TestContext.Current)).SecurityGroups ?? [];

    /// <summary>Same rules in and out, with the same descriptions.</summary>
    private static void AssertSameGroup(SecurityGroup before, SecurityGroup after)
    {
        static string Rules(IEnumerable<IpPermission>? permissions) => string.Join("|", (permissions ?? [])
            .SelectMany(p => (p.Ipv4Ranges ?? []).Select(r => $"{p.IpProtocol}:{p.FromPort}-{p.ToPort}:{r.CidrIp}:{r.Description}")).Order(StringComparer.Ordinal));
        Assert.Equal(Rules(before.IpPermissions), Rules(after.IpPermissions));
        Assert.Equal(Rules(before.IpPermissionsEgress), Rules(after.IpPermissionsEgress));
    }

    private async Task<IReadOnlyList<AclEntry>> PlannerEntriesAsync(string aclId) =>
        [.. (await AclEntriesAsync(aclId)).Select(e => new AclEntry(e.RuleNumber ?? 0, e.Egress ?? false, e.RuleAction == RuleAction.Allow, e.Protocol ?? "", e.CidrBlock, e.PortRange?.From, e.PortRange?.To))];

    /// <summary>(allowed, rule number) for one TCP packet, by AWS's rule order; the default deny reads (false, 32767).</summary>
    private static (bool Allowed, int Rule) Decision(IReadOnlyList<AclEntry> entries, bool egress, string ip, int port) =>
        NetworkAclPlanner.Decide(entries, egress, IPAddress.Parse(ip), port) is { } entry ? (entry.Allow, entry.RuleNumber) : (false, NetworkAclPlanner.DefaultRuleNumber);

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
    public async Task Fresh_onboarding_opens_the_instance_through_a_dedicated_group_and_a_second_run_creates_nothing()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = await DiscoverAsync(db.InstanceId);
        var shared = await GroupAsync(db.SecurityGroupId);

        var first = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        Assert.Equal($"make {db.InstanceId} publicly accessible (ModifyDBInstance PubliclyAccessible=true, applied immediately)", Assert.Single(first[0].Changes));
        var name = "prequelbot-" + db.InstanceId;
        Assert.Equal(
        [
            $"create security group {name} in {db.VpcId} (tagged managed-by=prequelbot, prequelbot:target={db.InstanceId}; inbound rules below only, no outbound rules)",
            $"add inbound TCP 5432 from {Ip2}/32 to {name}",
            $"add inbound TCP 5432 from {Ip1}/32 to {name}",
            $"add {name} to {db.InstanceId}'s security groups (ModifyDBInstance VpcSecurityGroupIds = {db.SecurityGroupId} + {name}, applied immediately)",
        ], first[1].Changes);
        Assert.Equal(4, first[2].Changes.Count);
        Assert.True((await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!.PubliclyAccessible);

        // The dedicated group: tagged, exactly one /32 rule per IP, no outbound rule, added after the instance's own group.
        var dedicated = Assert.Single(await DedicatedGroupsAsync(db));
        Assert.Equal(name, dedicated.GroupName);
        Assert.Equal(("prequelbot", db.InstanceId), (dedicated.Tags.Single(t => t.Key == "managed-by").Value, dedicated.Tags.Single(t => t.Key == "prequelbot:target").Value));
        var rules = dedicated.IpPermissions.SelectMany(p => p.Ipv4Ranges.Select(r => (p.IpProtocol, p.FromPort, p.ToPort, r.CidrIp, r.Description))).Order().ToList();
        Assert.Equal([("tcp", 5432, 5432, $"{Ip2}/32", "prequelbot"), ("tcp", 5432, 5432, $"{Ip1}/32", "prequelbot")], rules);
        Assert.Empty(dedicated.IpPermissionsEgress ?? []);
        Assert.Equal([db.SecurityGroupId, dedicated.GroupId], (await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!.SecurityGroupIds);
        Assert.Equal([db.SecurityGroupId, dedicated.GroupId], facts.Target!.SecurityGroupIds);

        // The instance's own (shared) group is exactly as it was.
        AssertSameGroup(shared, await GroupAsync(db.SecurityGroupId));

        // ACL: per static IP, inbound 5432 from and outbound 1024-65535 to its /32 only.
        var entries = await AclEntriesAsync(db.CustomAclId!);
        Assert.Equal(
        [
            (false, $"{Ip2}/32", 5432, 5432), (false, $"{Ip1}/32", 5432, 5432),
            (true, $"{Ip2}/32", 1024, 65535), (true, $"{Ip1}/32", 1024, 65535),
        ], entries.OrderBy(e => e.Egress).ThenBy(e => e.CidrBlock, StringComparer.Ordinal).Select(e => (e.Egress ?? false, e.CidrBlock, e.PortRange.From ?? 0, e.PortRange.To ?? 0)));

        var second = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts, onboardingId: "ob-test2"));
        foreach (var handler in OpeningSteps)
        {
            await handler.ApplyAsync(AwsStepsHarness.Context(handler.StepName, db.InstanceId, facts, onboardingId: "ob-test2"), TestContext.Current);
        }

        Assert.All(second, plan => Assert.False(plan.HasChanges));
        Assert.Single(await DedicatedGroupsAsync(db));
        Assert.Equal(2, (await GroupAsync(dedicated.GroupId)).IpPermissions.SelectMany(p => p.Ipv4Ranges).Count());
        Assert.Equal(4, (await AclEntriesAsync(db.CustomAclId!)).Count);
        AssertSameGroup(shared, await GroupAsync(db.SecurityGroupId));
    }

    [Fact]
    public async Task A_crash_between_creating_and_attaching_the_group_finds_it_again_by_its_tags()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = await DiscoverAsync(db.InstanceId);
        var groupId = await Network.DedicatedSecurityGroups.CreateAsync(moto.Ec2, db.VpcId, db.InstanceId, "ob-crashed", TestContext.Current);
        var context = AwsStepsHarness.Context(StepNames.SecurityGroup, db.InstanceId, facts);

        var plan = await _steps.SecurityGroup.PlanAsync(context, TestContext.Current);
        var result = await _steps.SecurityGroup.ApplyAsync(context, TestContext.Current);

        Assert.DoesNotContain(plan.Changes, c => c.StartsWith("create security group", StringComparison.Ordinal));
        Assert.Contains($"add inbound TCP 5432 from {Ip1}/32 to prequelbot-{db.InstanceId} ({groupId})", plan.Changes);
        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.Equal(groupId, Assert.Single(await DedicatedGroupsAsync(db)).GroupId);
        Assert.Equal([db.SecurityGroupId, groupId], (await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!.SecurityGroupIds);
    }

    [Fact]
    public async Task With_security_group_the_rules_go_on_that_group_and_no_group_is_created()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = await DiscoverAsync(db.InstanceId);

        var plans = await AwsStepsHarness.RunAsync([_steps.SecurityGroup],
            step => AwsStepsHarness.Context(step, db.InstanceId, facts, securityGroupId: db.SecurityGroupId));

        Assert.Equal([$"add inbound TCP 5432 from {Ip2}/32 to {db.SecurityGroupId}", $"add inbound TCP 5432 from {Ip1}/32 to {db.SecurityGroupId}"], plans[0].Changes);
        Assert.Equal([$"{Ip2}/32", $"{Ip1}/32"], (await IngressAsync(db.SecurityGroupId)).SelectMany(p => p.Ipv4Ranges).Select(r => r.CidrIp).Order());
        Assert.Empty(await DedicatedGroupsAsync(db));
        Assert.Equal([db.SecurityGroupId], (await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!.SecurityGroupIds);
    }

    [Fact]
    public async Task A_rule_added_by_hand_after_the_approval_makes_apply_refuse_the_approved_plan_and_add_nothing()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = await DiscoverAsync(db.InstanceId);
        var planned = AwsStepsHarness.Context(StepNames.SecurityGroup, db.InstanceId, facts, securityGroupId: db.SecurityGroupId);
        var approved = await _steps.SecurityGroup.PlanAsync(planned, TestContext.Current);
        Assert.Equal(2, approved.Changes.Count);
        await moto.Ec2.AuthorizeSecurityGroupIngressAsync(new AuthorizeSecurityGroupIngressRequest
        {
            GroupId = db.SecurityGroupId,
            IpPermissions = [new IpPermission { IpProtocol = "tcp", FromPort = 5432, ToPort = 5432, Ipv4Ranges = [new IpRange { CidrIp = $"{Ip1}/32", Description = "by hand" }] }],
        }, TestContext.Current);
        var applying = new StepContext
        {
            OnboardingId = planned.OnboardingId, StepName = planned.StepName, Request = planned.Request, Facts = planned.Facts, ApprovedPlan = approved,
        };

        var error = await Assert.ThrowsAsync<ApprovedPlanChangedException>(() => _steps.SecurityGroup.ApplyAsync(applying, TestContext.Current));

        Assert.Equal([$"add inbound TCP 5432 from {Ip2}/32 to {db.SecurityGroupId}"], error.Live.Changes);
        Assert.StartsWith($"the change differs from what was approved: no longer needed: add inbound TCP 5432 from {Ip1}/32", error.Message);
        Assert.Equal([$"{Ip1}/32"], (await IngressAsync(db.SecurityGroupId)).SelectMany(p => p.Ipv4Ranges).Select(r => r.CidrIp));
    }

    [Fact]
    public async Task With_security_group_naming_a_group_the_instance_does_not_have_the_step_fails_and_changes_nothing()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var other = (await moto.Ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest { GroupName = AwsStepsHarness.UniqueName("other"), Description = "other", VpcId = db.VpcId }, TestContext.Current)).GroupId;
        var facts = await DiscoverAsync(db.InstanceId);

        var error = await Assert.ThrowsAsync<StepFailedException>(() =>
            _steps.SecurityGroup.PlanAsync(AwsStepsHarness.Context(StepNames.SecurityGroup, db.InstanceId, facts, securityGroupId: other), TestContext.Current));

        Assert.Equal($"{other} is not one of {db.InstanceId}'s security groups ({db.SecurityGroupId}); --security-group must name a group the target already has", error.Message);
        Assert.Empty(await IngressAsync(other));
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
    public async Task A_restrictive_acl_with_a_deny_all_gets_entries_below_the_deny_and_the_prompt_says_they_override_it()
    {
        var db = await _steps.SeedAsync(customAcl:
        [
            Entry(50, false, RuleAction.Allow, "6", "10.0.0.0/8", 22, 22),
            Entry(100, false, RuleAction.Deny), Entry(100, true, RuleAction.Deny),
            Entry(32767, false, RuleAction.Deny), Entry(32767, true, RuleAction.Deny),
        ]);
        var facts = await DiscoverAsync(db.InstanceId);

        var plans = await AwsStepsHarness.RunAsync([_steps.NetworkAcl], step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        const string Override = ", ahead of rule 100 (deny all {0} 0.0.0.0/0), which denies it today; only this /32 is affected";
        Assert.Equal(
        [
            $"add to {db.CustomAclId} rule 60: inbound allow TCP 5432 from {Ip2}/32" + string.Format(null, Override, "from"),
            $"add to {db.CustomAclId} rule 70: inbound allow TCP 5432 from {Ip1}/32" + string.Format(null, Override, "from"),
            $"add to {db.CustomAclId} rule 10: outbound allow TCP 1024-65535 to {Ip2}/32" + string.Format(null, Override, "to"),
            $"add to {db.CustomAclId} rule 20: outbound allow TCP 1024-65535 to {Ip1}/32" + string.Format(null, Override, "to"),
        ], plans[0].Changes);
        var entries = await PlannerEntriesAsync(db.CustomAclId!);
        Assert.Equal(60, NetworkAclPlanner.Decide(entries, false, IPAddress.Parse(Ip2), 5432)?.RuleNumber);
        Assert.Equal(20, NetworkAclPlanner.Decide(entries, true, IPAddress.Parse(Ip1), 50000)?.RuleNumber);
        // Everyone else still meets the customer's deny, in both directions; and the static IPs on other ports too.
        Assert.Equal((false, 100), Decision(entries, false, "35.192.85.118", 5432));
        Assert.Equal((false, 100), Decision(entries, true, "8.8.8.8", 50000));
        Assert.Equal((false, 100), Decision(entries, false, Ip1, 22));
        Assert.False((await _steps.NetworkAcl.PlanAsync(AwsStepsHarness.Context(StepNames.NetworkAcl, db.InstanceId, facts), TestContext.Current)).HasChanges);
    }

    [Fact]
    public async Task A_customer_egress_deny_still_denies_after_onboarding()
    {
        var db = await _steps.SeedAsync(customAcl:
        [
            Entry(100, false, RuleAction.Allow),
            Entry(50, true, RuleAction.Deny, cidr: "198.51.100.0/24"),
            Entry(60, true, RuleAction.Deny, cidr: "35.192.0.0/16"),
            Entry(100, true, RuleAction.Allow),
        ]);
        var facts = await DiscoverAsync(db.InstanceId);

        var plans = await AwsStepsHarness.RunAsync([_steps.NetworkAcl], step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        // Only the static IP that a deny blocks gets an entry, numbered just below that deny; inbound was allowed already.
        Assert.Equal(
            [$"add to {db.CustomAclId} rule 59: outbound allow TCP 1024-65535 to {Ip1}/32, ahead of rule 60 (deny all to 35.192.0.0/16), which denies it today; only this /32 is affected"],
            plans[0].Changes);
        var entries = await PlannerEntriesAsync(db.CustomAclId!);
        Assert.Equal((false, 50), Decision(entries, true, "198.51.100.7", 443));
        Assert.Equal((false, 50), Decision(entries, true, "198.51.100.7", 50000));
        Assert.Equal((false, 60), Decision(entries, true, "35.192.1.1", 50000));
        Assert.Equal((false, 60), Decision(entries, true, Ip1, 443));
        Assert.Equal((true, 59), Decision(entries, true, Ip1, 50000));
        Assert.Equal((true, 100), Decision(entries, true, "8.8.8.8", 443));
    }

    [Fact]
    public async Task Nat_only_subnets_fail_public_access_before_any_change_naming_each_subnet_and_its_route()
    {
        var db = await _steps.SeedAsync(customAcl: [], route: DefaultRoute.NatGateway);
        var facts = await DiscoverAsync(db.InstanceId);
        var context = AwsStepsHarness.Context(StepNames.PublicAccess, db.InstanceId, facts);
        var nat = facts.Source!.SubnetRoutes[0].DefaultRouteTarget!;

        var planned = await Assert.ThrowsAsync<StepFailedException>(() => _steps.PublicAccess.PlanAsync(context, TestContext.Current));
        var applied = await Assert.ThrowsAsync<StepFailedException>(() => _steps.PublicAccess.ApplyAsync(context, TestContext.Current));

        Assert.StartsWith("nat-", nat, StringComparison.Ordinal);
        var subnetGroup = db.SubnetGroupName;
        Assert.Equal(
            $"{db.InstanceId} would not be reachable from the internet: no subnet of DB subnet group {subnetGroup} routes 0.0.0.0/0 to an internet gateway " +
            $"({db.SubnetIds[0]} → {nat} (main table {db.MainRouteTableId}), {db.SubnetIds[1]} → {nat} (main table {db.MainRouteTableId})). Nothing was changed. " +
            $"Use --replica with --replica-subnet-group <a DB subnet group in {db.VpcId} whose subnets route to an internet gateway>, or add such a route, then retry.",
            planned.Message);
        Assert.Equal(planned.Message, applied.Message);
        Assert.False((await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!.PubliclyAccessible);
        Assert.Contains($"0.0.0.0/0: {db.SubnetIds[0]} → {nat}", (await DiscoverDetailAsync(db.InstanceId)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Subnets_without_any_default_route_fail_too_and_a_replica_there_is_not_created()
    {
        var db = await _steps.SeedAsync(customAcl: [], route: DefaultRoute.None);
        var facts = await DiscoverAsync(db.InstanceId, replica: true);
        var context = AwsStepsHarness.Context(StepNames.CreateReplica, db.InstanceId, facts, replica: true);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => _steps.CreateReplica.ApplyAsync(context, TestContext.Current));

        Assert.Contains($"{db.SubnetIds[0]} → no 0.0.0.0/0 route (main table {db.MainRouteTableId})", error.Message, StringComparison.Ordinal);
        Assert.Contains("Add --replica-subnet-group", error.Message, StringComparison.Ordinal);
        Assert.Null(await moto.Rds.DescribeDBInstanceAsync(db.InstanceId + "-prequel-replica", TestContext.Current));
    }

    [Fact]
    public async Task An_explicit_route_table_association_wins_over_the_main_table()
    {
        var db = await _steps.SeedAsync(customAcl: [], route: DefaultRoute.NatGateway);
        var table = (await moto.Ec2.CreateRouteTableAsync(new CreateRouteTableRequest { VpcId = db.VpcId }, TestContext.Current)).RouteTable.RouteTableId;
        await moto.Ec2.CreateRouteAsync(new CreateRouteRequest { RouteTableId = table, DestinationCidrBlock = "0.0.0.0/0", GatewayId = db.InternetGatewayId }, TestContext.Current);
        await moto.Ec2.AssociateRouteTableAsync(new AssociateRouteTableRequest { RouteTableId = table, SubnetId = db.SubnetIds[0] }, TestContext.Current);

        var facts = await DiscoverAsync(db.InstanceId);
        var plan = await _steps.PublicAccess.PlanAsync(AwsStepsHarness.Context(StepNames.PublicAccess, db.InstanceId, facts), TestContext.Current);

        var routes = facts.Source!.SubnetRoutes;
        Assert.Equal((db.SubnetIds[0], table, false, db.InternetGatewayId), (routes[0].SubnetId, routes[0].RouteTableId, routes[0].MainTable, routes[0].DefaultRouteTarget));
        Assert.Equal((db.SubnetIds[1], db.MainRouteTableId, true), (routes[1].SubnetId, routes[1].RouteTableId, routes[1].MainTable));
        Assert.True(plan.HasChanges);
        Assert.Contains($"{db.SubnetIds[1]} has no internet gateway route: if RDS moves the instance there", plan.Note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replica_path_creates_waits_and_later_steps_target_the_replica()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var replicaId = db.InstanceId + "-prequel-replica";
        var facts = await DiscoverAsync(db.InstanceId, replica: true);
        Assert.Null(facts.Target);
        var shared = await GroupAsync(db.SecurityGroupId);

        var plans = await AwsStepsHarness.RunAsync([_steps.CreateReplica, _steps.WaitReplica],
            step => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true));
        var opening = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true));

        Assert.Equal(
            $"create read replica {replicaId} of {db.InstanceId} (db.t3.micro, publicly accessible, DB subnet group {db.SubnetGroupName}, security groups {db.SecurityGroupId}, tagged managed-by=prequelbot)",
            Assert.Single(plans[0].Changes));
        Assert.Equal(replicaId, facts.Target?.InstanceIdentifier);
        Assert.Equal("available", facts.Target?.Status);
        Assert.Equal(db.InstanceId, facts.Source?.InstanceIdentifier);
        var replica = await moto.Rds.DescribeDBInstanceAsync(replicaId, TestContext.Current);
        Assert.True(replica!.IsReplicaOf(db.InstanceId));
        Assert.Equal("prequelbot", replica.Tags["managed-by"]);
        Assert.False(opening[0].HasChanges);
        Assert.Equal(4, opening[1].Changes.Count);
        var dedicated = Assert.Single(await DedicatedGroupsAsync(db, replicaId));
        Assert.Equal([db.SecurityGroupId, dedicated.GroupId], (await moto.Rds.DescribeDBInstanceAsync(replicaId, TestContext.Current))!.SecurityGroupIds);
        var source = (await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current))!;
        Assert.False(source.PubliclyAccessible);
        Assert.Equal([db.SecurityGroupId], source.SecurityGroupIds);
        AssertSameGroup(shared, await GroupAsync(db.SecurityGroupId));

        var again = await _steps.CreateReplica.PlanAsync(AwsStepsHarness.Context(StepNames.CreateReplica, db.InstanceId, facts, replica: true), TestContext.Current);
        Assert.False(again.HasChanges);
    }

    [Fact]
    public async Task A_private_source_gets_a_reachable_replica_in_the_replica_subnet_group()
    {
        var db = await _steps.SeedAsync(customAcl: [], route: DefaultRoute.NatGateway);
        var (group, publicSubnets) = await _steps.SubnetGroupAsync(db.VpcId, db.InternetGatewayId!, 30);
        var replicaId = db.InstanceId + "-prequel-replica";
        var facts = await DiscoverAsync(db.InstanceId, replica: true, replicaSubnetGroup: group);
        StepContext Context(string step, bool preview = false) => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true, preview: preview, replicaSubnetGroup: group);

        var preview = await _steps.NetworkAcl.PlanAsync(Context(StepNames.NetworkAcl, preview: true), TestContext.Current);
        var plans = await AwsStepsHarness.RunAsync([_steps.CreateReplica, _steps.WaitReplica], step => Context(step));

        Assert.Equal(group, facts.ReplicaSubnetGroup?.Name);
        Assert.All(facts.ReplicaSubnetGroup!.SubnetRoutes, r => Assert.Equal(db.InternetGatewayId, r.DefaultRouteTarget));
        Assert.Contains($"DB subnet group {group}, security groups {db.SecurityGroupId}", Assert.Single(plans[0].Changes), StringComparison.Ordinal);
        Assert.Contains($"0.0.0.0/0 in {group}: {publicSubnets[0]} → {db.InternetGatewayId}", plans[0].Note, StringComparison.Ordinal);
        var replica = (await moto.Rds.DescribeDBInstanceAsync(replicaId, TestContext.Current))!;
        Assert.Equal(group, replica.SubnetGroupName);
        Assert.Equal([db.SecurityGroupId], replica.SecurityGroupIds);
        Assert.NotNull(preview);
        var publicAccess = await _steps.PublicAccess.PlanAsync(Context(StepNames.PublicAccess), TestContext.Current);
        Assert.False(publicAccess.HasChanges);
    }

    [Fact]
    public async Task A_replica_subnet_group_in_another_vpc_fails_discover()
    {
        var db = await _steps.SeedAsync();
        var other = await _steps.SeedAsync();

        var error = await Assert.ThrowsAsync<StepFailedException>(() => _steps.Discover.ApplyAsync(
            AwsStepsHarness.Context(StepNames.Discover, db.InstanceId, new OnboardingFacts(), replica: true, replicaSubnetGroup: other.SubnetGroupName), TestContext.Current));

        Assert.Equal($"DB subnet group {other.SubnetGroupName} is in {other.VpcId}, but {db.InstanceId} is in {db.VpcId}; the replica must be in the source's VPC: choose a DB subnet group there", error.Message);
    }

    [Fact]
    public async Task An_unknown_replica_subnet_group_fails_discover()
    {
        var db = await _steps.SeedAsync();

        var error = await Assert.ThrowsAsync<StepFailedException>(() => _steps.Discover.ApplyAsync(
            AwsStepsHarness.Context(StepNames.Discover, db.InstanceId, new OnboardingFacts(), replica: true, replicaSubnetGroup: "no-such-group"), TestContext.Current));

        Assert.StartsWith("No DB subnet group named no-such-group in ", error.Message, StringComparison.Ordinal);
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
