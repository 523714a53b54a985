using PrequelBot.Commands;
using Amazon.EC2.Model;
using Microsoft.Extensions.Logging.Abstractions;
using PrequelBot.Aws.Steps.Disconnect;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>
/// The change record of the AWS connect steps and the disconnect steps that undo it, against moto: every test seeds its own
/// VPC and instance through the AWS APIs, connects, disconnects, and compares AWS with a snapshot taken before the connect.
/// </summary>
public sealed class DisconnectStepsOnMotoTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    private const string Ip1 = "35.192.85.117";
    private const string Ip2 = "34.66.12.34";

    private readonly AwsStepsHarness _steps = new(moto, Ip1, Ip2);

    private IStepHandler[] OpeningSteps => [_steps.PublicAccess, _steps.SecurityGroup, _steps.NetworkAcl];

    private IStepHandler[] ClosingSteps =>
    [
        new CloseNetworkAclStepHandler(moto.Clients, NullLogger<CloseNetworkAclStepHandler>.Instance),
        new CloseSecurityGroupStepHandler(moto.Clients, NullLogger<CloseSecurityGroupStepHandler>.Instance),
        new RestorePublicAccessStepHandler(moto.Clients, NullLogger<RestorePublicAccessStepHandler>.Instance),
        new DeleteReplicaStepHandler(moto.Clients, NullLogger<DeleteReplicaStepHandler>.Instance),
    ];

    private static NetworkAclEntry Entry(int number, bool egress, string action, string protocol = "-1", string cidr = "0.0.0.0/0", int? from = null, int? to = null) => new()
    {
        RuleNumber = number, Egress = egress, RuleAction = action, Protocol = protocol, CidrBlock = cidr,
        PortRange = from is null ? null : new PortRange { From = from, To = to },
    };

    private static StepContext Resumed(StepContext context, StepPlan approved) => new()
    {
        OnboardingId = context.OnboardingId,
        StepName = context.StepName,
        Request = context.Request,
        Facts = context.Facts,
        StartedAt = context.StartedAt,
        Attempt = 2,
        ResumedPlan = approved,
    };

    private async Task<OnboardingFacts> DiscoverAsync(string instanceId)
    {
        var facts = new OnboardingFacts();
        var result = await _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, instanceId, facts), TestContext.Current);
        Assert.Equal(StepOutcome.Done, result.Outcome);
        return facts;
    }

    /// <summary>What disconnect must give back: the VPC's groups with their rules, the ACL's entries, the instance's group list and public flag.</summary>
    private async Task<string> SnapshotAsync(SeededDatabase db)
    {
        var ct = TestContext.Current;
        var groups = (await moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("vpc-id", [db.VpcId])] }, ct)).SecurityGroups ?? [];
        var lines = groups.OrderBy(g => g.GroupId, StringComparer.Ordinal).Select(g => $"group {g.GroupId} {g.GroupName}: " + string.Join(",",
            (g.IpPermissions ?? []).SelectMany(p => (p.Ipv4Ranges ?? []).Select(r => $"in {p.IpProtocol}:{p.FromPort}-{p.ToPort}:{r.CidrIp}:{r.Description}"))
            .Concat((g.IpPermissionsEgress ?? []).SelectMany(p => (p.Ipv4Ranges ?? []).Select(r => $"out {p.IpProtocol}:{p.FromPort}-{p.ToPort}:{r.CidrIp}")))
            .Order(StringComparer.Ordinal))).ToList();
        if (db.CustomAclId is { } acl)
        {
            var entries = (await moto.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { NetworkAclIds = [acl] }, ct)).NetworkAcls.Single().Entries ?? [];
            lines.AddRange(entries.Select(e => $"acl {e.RuleNumber} {(e.Egress == true ? "out" : "in")} {e.RuleAction} {e.Protocol} {e.CidrBlock} {e.PortRange?.From}-{e.PortRange?.To}").Order(StringComparer.Ordinal));
        }
        var instance = (await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, ct))!;
        lines.Add($"instance groups {string.Join(",", instance.SecurityGroupIds)} public {instance.PubliclyAccessible}");
        return string.Join('\n', lines);
    }

    [Fact]
    public async Task Disconnect_after_connect_gives_back_the_account_as_it_was_and_keeps_the_customer_rule_that_admitted_an_ip_before()
    {
        var customer = new IpPermission { IpProtocol = "tcp", FromPort = 5432, ToPort = 5432, Ipv4Ranges = [new IpRange { CidrIp = $"{Ip1}/32", Description = "customer" }] };
        var db = await _steps.SeedAsync(ingress: [customer], customAcl: [Entry(100, false, "allow", "6", "10.0.0.0/8", 5432, 5432), Entry(100, true, "allow")]);
        var before = await SnapshotAsync(db);
        var facts = await DiscoverAsync(db.InstanceId);

        await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        // The record: the public flag it turned on, the dedicated group with the one rule the customer's rule did not cover, the ACL entries.
        var record = facts.Changes;
        Assert.Equal((db.InstanceId, (bool?)false), (record.PublicFlagChangedOn, record.PreviousPublicFlag));
        Assert.NotNull(record.DedicatedGroupId);
        Assert.Equal(db.InstanceId, record.GroupAttachedTo);
        Assert.Equal([new RecordedRule(record.DedicatedGroupId!, $"{Ip2}/32", 5432)], record.Rules);
        Assert.Equal(2, record.AclEntries.Count(e => !e.Egress));
        Assert.All(record.AclEntries, e => Assert.Equal(db.CustomAclId, e.AclId));
        Assert.NotEqual(before, await SnapshotAsync(db));

        var closing = await AwsStepsHarness.RunAsync(ClosingSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        Assert.Equal(before, await SnapshotAsync(db));
        Assert.Equal(record.AclEntries.Count, closing[0].Changes.Count);
        Assert.Equal(2, closing[1].Changes.Count); // detach, delete
        Assert.Single(closing[2].Changes);
        Assert.False(closing[3].HasChanges);
        Assert.Contains("customer", before, StringComparison.Ordinal);
        // A second disconnect finds nothing left to do.
        foreach (var handler in ClosingSteps)
        {
            Assert.False((await handler.PlanAsync(AwsStepsHarness.Context(handler.StepName, db.InstanceId, facts), TestContext.Current)).HasChanges, handler.StepName);
        }
    }

    [Fact]
    public async Task A_connect_step_killed_after_its_AWS_calls_and_before_its_save_finds_its_own_changes_again_on_the_rerun()
    {
        var db = await _steps.SeedAsync(customAcl: [Entry(100, false, "deny", "6", "0.0.0.0/0", 5432, 5432), Entry(100, true, "deny")]);
        var facts = await DiscoverAsync(db.InstanceId);
        var before = await SnapshotAsync(db);

        foreach (var handler in OpeningSteps)
        {
            var approved = await handler.PlanAsync(AwsStepsHarness.Context(handler.StepName, db.InstanceId, facts.Clone()), TestContext.Current);
            Assert.True(approved.HasChanges, handler.StepName);
            // The run applies and dies before the engine saves its facts: the copy it wrote into is lost.
            var lost = facts.Clone();
            Assert.Equal(StepOutcome.Done, (await handler.ApplyAsync(AwsStepsHarness.Context(handler.StepName, db.InstanceId, lost), TestContext.Current)).Outcome);

            var replanned = await handler.PlanAsync(Resumed(AwsStepsHarness.Context(handler.StepName, db.InstanceId, facts), approved), TestContext.Current);

            Assert.False(replanned.HasChanges, $"{handler.StepName}: {string.Join("; ", replanned.Changes)}");
        }

        var record = facts.Changes;
        Assert.Equal(db.InstanceId, record.PublicFlagChangedOn);
        Assert.NotNull(record.DedicatedGroupId);
        Assert.Equal(2, record.Rules.Count);
        Assert.Equal(4, record.AclEntries.Count); // in and out for each IP, ahead of the customer's deny

        await AwsStepsHarness.RunAsync(ClosingSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        Assert.Equal(before, await SnapshotAsync(db));
    }

    [Fact]
    public async Task What_existed_before_the_connect_is_never_in_the_record_and_disconnect_leaves_it_alone()
    {
        var admitted = new IpPermission
        {
            IpProtocol = "tcp", FromPort = 5432, ToPort = 5432,
            Ipv4Ranges = [new IpRange { CidrIp = $"{Ip1}/32", Description = "customer" }, new IpRange { CidrIp = $"{Ip2}/32", Description = "customer" }],
        };
        var db = await _steps.SeedAsync(publiclyAccessible: true, ingress: [admitted], customAcl: [Entry(100, false, "allow"), Entry(100, true, "allow")]);
        var before = await SnapshotAsync(db);
        var facts = await DiscoverAsync(db.InstanceId);

        var opening = await AwsStepsHarness.RunAsync(OpeningSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));

        Assert.All(opening, p => Assert.False(p.HasChanges));
        Assert.True(facts.Changes.IsEmpty);
        var closing = await AwsStepsHarness.RunAsync(ClosingSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts));
        Assert.All(closing, p => Assert.False(p.HasChanges));
        Assert.Contains("was publicly accessible before the connect; left as it is", closing[2].Detail, StringComparison.Ordinal);
        Assert.Equal(before, await SnapshotAsync(db));
    }

    [Fact]
    public async Task A_recorded_acl_entry_changed_by_hand_since_is_left_alone_and_the_plan_says_so()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = await DiscoverAsync(db.InstanceId);
        await AwsStepsHarness.RunAsync([_steps.NetworkAcl], step => AwsStepsHarness.Context(step, db.InstanceId, facts));
        var edited = facts.Changes.AclEntries.First(e => !e.Egress);
        await moto.Ec2.ReplaceNetworkAclEntryAsync(new ReplaceNetworkAclEntryRequest
        {
            NetworkAclId = edited.AclId, RuleNumber = edited.RuleNumber, Egress = false, Protocol = "6", RuleAction = "allow", CidrBlock = "10.9.9.9/32", PortRange = new PortRange { From = 5432, To = 5432 },
        }, TestContext.Current);
        var close = ClosingSteps[0];

        var plan = await close.PlanAsync(AwsStepsHarness.Context(close.StepName, db.InstanceId, facts), TestContext.Current);

        Assert.Equal(facts.Changes.AclEntries.Count - 1, plan.Changes.Count);
        Assert.Contains($"{edited.AclId} inbound rule {edited.RuleNumber} was changed since PrequelBot created it and is left alone", plan.Note, StringComparison.Ordinal);
        Assert.Equal(StepOutcome.Done, (await close.ApplyAsync(AwsStepsHarness.Context(close.StepName, db.InstanceId, facts), TestContext.Current)).Outcome);
        var left = (await moto.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { NetworkAclIds = [edited.AclId] }, TestContext.Current)).NetworkAcls.Single().Entries;
        Assert.Equal("10.9.9.9/32", Assert.Single(left, e => e.RuleNumber == edited.RuleNumber && e.Egress == false).CidrBlock);
    }

    [Fact]
    public async Task Disconnect_of_a_replica_connect_deletes_only_the_replica_it_created_and_keep_replica_keeps_it()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = new OnboardingFacts();
        Assert.Equal(StepOutcome.Done, (await _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, db.InstanceId, facts, replica: true), TestContext.Current)).Outcome);
        await AwsStepsHarness.RunAsync([_steps.CreateReplica, _steps.PublicAccess, _steps.SecurityGroup], step => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true));
        var replica = db.InstanceId + "-prequel-replica";
        Assert.Equal(replica, facts.Changes.ReplicaId);
        Assert.Null(facts.Changes.PublicFlagChangedOn);
        var source = await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current);
        var delete = ClosingSteps[3];

        var kept = await delete.PlanAsync(KeepReplica(AwsStepsHarness.Context(delete.StepName, db.InstanceId, facts, replica: true)), TestContext.Current);
        var plan = await AwsStepsHarness.RunAsync(ClosingSteps, step => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true));

        Assert.False(kept.HasChanges);
        Assert.Contains("still publicly accessible", kept.Detail, StringComparison.Ordinal);
        Assert.StartsWith($"delete read replica {replica}", Assert.Single(plan[3].Changes), StringComparison.Ordinal);
        Assert.Null(await moto.Rds.DescribeDBInstanceAsync(replica, TestContext.Current));
        var after = await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current);
        Assert.Equal(source!.SecurityGroupIds, after!.SecurityGroupIds);
        Assert.Equal(source.PubliclyAccessible, after.PubliclyAccessible);
    }

    [Fact]
    public async Task Final_snapshot_of_a_read_replica_is_a_manual_snapshot_that_is_available_before_the_replica_is_deleted()
    {
        var db = await _steps.SeedAsync(customAcl: []);
        var facts = new OnboardingFacts();
        Assert.Equal(StepOutcome.Done, (await _steps.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, db.InstanceId, facts, replica: true), TestContext.Current)).Outcome);
        await AwsStepsHarness.RunAsync([_steps.CreateReplica], step => AwsStepsHarness.Context(step, db.InstanceId, facts, replica: true));
        var replica = db.InstanceId + "-prequel-replica";
        var snapshot = Identifiers.FinalSnapshotId(replica, new DateTimeOffset(2026, 12, 2, 17, 45, 0, TimeSpan.Zero));
        var delete = ClosingSteps[3];
        StepContext Context() => FinalSnapshot(AwsStepsHarness.Context(delete.StepName, db.InstanceId, facts, replica: true), snapshot);

        var plan = await delete.PlanAsync(Context(), TestContext.Current);
        var result = await delete.ApplyAsync(Context(), TestContext.Current);

        Assert.Equal(replica + "-prequel-final-202612021745", snapshot);
        Assert.Equal(2, plan.Changes.Count);
        Assert.StartsWith($"take manual DB snapshot {snapshot} of read replica {replica} (CreateDBSnapshot; AWS takes no final snapshot when it deletes a read replica)", plan.Changes[0], StringComparison.Ordinal);
        Assert.StartsWith($"then delete read replica {replica} (DeleteDBInstance, SkipFinalSnapshot", plan.Changes[1], StringComparison.Ordinal);
        // moto lists a new snapshot as available at once, so one Apply takes it and deletes the replica.
        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.Equal($"{replica} is deleted; snapshot {snapshot} is kept (available)", result.Message);
        var kept = await moto.Rds.DescribeDBSnapshotAsync(snapshot, TestContext.Current);
        Assert.Equal((replica, "available", "manual"), (kept!.InstanceIdentifier, kept.Status, kept.SnapshotType));
        Assert.Null(await moto.Rds.DescribeDBInstanceAsync(replica, TestContext.Current));
        // A re-run (after a crash) finds the replica gone and names the same snapshot; it takes no second one.
        Assert.False((await delete.PlanAsync(Context(), TestContext.Current)).HasChanges);
        Assert.Equal(result.Message, (await delete.ApplyAsync(Context(), TestContext.Current)).Message);
        Assert.NotNull(await moto.Rds.DescribeDBInstanceAsync(db.InstanceId, TestContext.Current));
    }

    private static StepContext FinalSnapshot(StepContext context, string snapshotId) => new()
    {
        OnboardingId = context.OnboardingId,
        StepName = context.StepName,
        Request = context.Request with { FinalSnapshotId = snapshotId },
        Facts = context.Facts,
        StartedAt = context.StartedAt,
    };

    private static StepContext KeepReplica(StepContext context) => new()
    {
        OnboardingId = context.OnboardingId,
        StepName = context.StepName,
        Request = context.Request with { KeepReplica = true },
        Facts = context.Facts,
        StartedAt = context.StartedAt,
    };
}
