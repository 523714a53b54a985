using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Network;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>security-group</c>: unless a group of the target already admits every static IP on the port, a dedicated group
/// <c>prequelbot-&lt;target&gt;</c> in the target's VPC (found again by its tags) gets one inbound TCP &lt;port&gt; /32 rule per
/// IP that no group of the target admits yet, and is added to the target's groups (ModifyDBInstance
/// <c>VpcSecurityGroupIds</c> = current + it). The target's own groups are not changed. With <c>--security-group</c> the
/// rules go on that group of the target instead. <c>InvalidPermission.Duplicate</c> counts as success; every apply
/// re-reads the groups first, so a re-run creates nothing twice (docs/aws.md).
/// </summary>
public sealed class SecurityGroupStepHandler(AwsClients aws, IPrequelEgress prequel, ILogger<SecurityGroupStepHandler> logger) : IStepHandler
{
    /// <summary>Fact written on apply: the group that holds the Prequel rules (dedicated or chosen).</summary>
    public const string RulesGroupFact = "security-group:group-id";

    /// <summary>Fact written on apply when this onboarding created the dedicated group: its id.</summary>
    public const string CreatedGroupFact = "security-group:created-group-id";

    /// <summary>Description of each rule the bot adds.</summary>
    public const string RuleDescription = "prequelbot";

    public string StepName => StepNames.SecurityGroup;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (plan, _, _, _) = await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false);
        return ToStepPlan(plan);
    }

    private static StepPlan ToStepPlan(SecurityGroupPlan plan) =>
        plan.HasChanges ? StepPlan.Change(plan.ChangeLines, plan.Note) : StepPlan.AlreadyInPlace(string.Join("; ", plan.Covered));

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (plan, target, dedicated, holder) = await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false);
        if (!plan.HasChanges)
        {
            return StepResult.Done("already in place");
        }
        context.EnsureApproved(ToStepPlan(plan));
        var ec2 = aws.Ec2;
        var groupId = plan.RulesGroupId;
        try
        {
            if (plan.CreateGroup)
            {
                groupId = await DedicatedSecurityGroups.CreateAsync(ec2, RequireVpc(plan), plan.TargetId, context.OnboardingId, cancellationToken).ConfigureAwait(false);
                context.Facts.Values[CreatedGroupFact] = groupId;
                context.Facts.Changes.DedicatedGroupId = groupId;
                AwsLog.GroupCreated(logger, groupId, plan.DedicatedGroupName, context.OnboardingId);
            }
            else if (dedicated is not null && HasDefaultEgress(dedicated))
            {
                await DedicatedSecurityGroups.RevokeDefaultEgressAsync(ec2, dedicated.GroupId, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "CreateSecurityGroup", logger);
        }
        var rulesGroup = groupId ?? throw new StepFailedException($"{plan.DedicatedGroupName} was not found or created; run retry");
        foreach (var ip in plan.ToAdd)
        {
            try
            {
                await ec2.AuthorizeSecurityGroupIngressAsync(new AuthorizeSecurityGroupIngressRequest
                {
                    GroupId = rulesGroup,
                    IpPermissions =
                    [
                        new IpPermission
                        {
                            IpProtocol = "tcp", FromPort = plan.Port, ToPort = plan.Port,
                            Ipv4Ranges = [new IpRange { CidrIp = $"{ip}/32", Description = RuleDescription }],
                        },
                    ],
                }, cancellationToken).ConfigureAwait(false);
                AwsLog.IngressAdded(logger, plan.Port, ip, rulesGroup, context.OnboardingId);
                context.Facts.Changes.AddRule(new RecordedRule(rulesGroup, $"{ip}/32", plan.Port));
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidPermission.Duplicate")
            {
                // The live plan said it was missing, so an earlier run of this approved step made it just now.
                AwsLog.IngressExisted(logger, ip, rulesGroup);
                context.Facts.Changes.AddRule(new RecordedRule(rulesGroup, $"{ip}/32", plan.Port));
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "AuthorizeSecurityGroupIngress", logger);
            }
        }
        context.Facts.Values[RulesGroupFact] = rulesGroup;
        var groups = plan.CurrentGroups;
        if (plan.Attach)
        {
            try
            {
                groups = await holder.AddAsync(rulesGroup, cancellationToken).ConfigureAwait(false);
                AwsLog.GroupAttached(logger, rulesGroup, holder.Name, context.OnboardingId);
                RecordAttached(context.Facts.Changes, rulesGroup, holder, target.ClusterIdentifier is not null);
            }
            catch (RdsServiceException e) when (e.ErrorCode is RdsErrorCodes.InvalidDBInstanceState or RdsErrorCodes.InvalidDBClusterState)
            {
                return StepResult.Wait($"{holder.Name} is busy; will add {plan.DedicatedGroupName} when it is available", TimeSpan.FromSeconds(30));
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, target.ClusterIdentifier is null ? "ModifyDBInstance" : "ModifyDBCluster", logger);
            }
        }
        context.Facts.Target = target with { SecurityGroupIds = groups };
        var rules = plan.ToAdd.Count == 0 ? "" : $"added {plan.ToAdd.Count} inbound rule(s) for TCP {plan.Port} to {(plan.ChosenGroupId is null ? plan.DedicatedGroupName + " " : "")}{rulesGroup}";
        var attached = plan.Attach ? $"{(rules.Length == 0 ? "" : "; ")}{(target.ClusterIdentifier is null ? "" : "Aurora cluster ")}{holder.Name} now has {string.Join(", ", groups)}" : "";
        return StepResult.Done(rules + attached);
    }

    /// <summary>The live plan: the target's groups now, their rules, and the dedicated group by its tags.</summary>
    private async Task<(SecurityGroupPlan Plan, DatabaseFacts Target, SecurityGroup? Dedicated, ISecurityGroupHolder Holder)> PlanCoreAsync(StepContext context, CancellationToken cancellationToken)
    {
        var ips = prequel.StaticIps();
        var (target, predicted) = AwsStepSupport.Target(context);
        var ec2 = aws.Ec2;
        try
        {
            var cluster = target.ClusterIdentifier;
            var current = target.SecurityGroupIds;
            if (!predicted)
            {
                var live = await aws.Rds.DescribeDBInstanceAsync(target.InstanceIdentifier, cancellationToken).ConfigureAwait(false)
                    ?? throw new StepFailedException($"No RDS instance named {target.InstanceIdentifier} in {aws.Region}");
                current = live.SecurityGroupIds;
                cluster = live.ClusterIdentifier;
                if (cluster is not null)
                {
                    // An Aurora member's groups are the cluster's: read (and later extend) them there.
                    current = await Holder(target.InstanceIdentifier, cluster).CurrentGroupsAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            if (current.Count == 0)
            {
                throw new StepFailedException($"{target.InstanceIdentifier} has no VPC security group; PrequelBot cannot open it");
            }
            var groups = (await ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [.. current] }, cancellationToken).ConfigureAwait(false)).SecurityGroups ?? [];
            var vpcId = target.VpcId ?? groups.Select(g => g.VpcId).FirstOrDefault();
            SecurityGroup? dedicated = null;
            if (context.Request.SecurityGroupId is null && vpcId is not null)
            {
                dedicated = await DedicatedSecurityGroups.FindAsync(ec2, vpcId, target.InstanceIdentifier, cancellationToken).ConfigureAwait(false);
            }
            var plan = SecurityGroupPlanner.Plan(target.InstanceIdentifier, vpcId, target.Port, ips, current,
                [.. groups.SelectMany(DedicatedSecurityGroups.IngressRules)], context.Request.SecurityGroupId,
                dedicated is null ? null : new DedicatedGroup(dedicated.GroupId, DedicatedSecurityGroups.IngressRules(dedicated), current.Contains(dedicated.GroupId, StringComparer.Ordinal)));
            plan = plan with { Cluster = cluster };
            if (!context.IsPreview)
            {
                RecordOwn(context, plan, groups, dedicated, Holder(target.InstanceIdentifier, cluster), cluster is not null, current);
            }
            return (plan, target with { ClusterIdentifier = cluster }, dedicated, Holder(target.InstanceIdentifier, cluster));
        }
        catch (InvalidOperationException e)
        {
            throw new StepFailedException(e.Message, e);
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeSecurityGroups", logger);
        }
    }

    /// <summary>
    /// The change record of what this bot already has in place (docs/workflow.md, "The change record"): the dedicated group
    /// is the bot's by its tags (found again after any crash), with every static-IP rule in it and its place in the target's groups. On a chosen group,
    /// only after a run of this approved step stopped before its save (<see cref="StepContext.ResumedPlan"/>): the /32 rules
    /// marked with <see cref="RuleDescription"/> for the IPs that run was to add.
    /// </summary>
    private static void RecordOwn(StepContext context, SecurityGroupPlan plan, IReadOnlyList<SecurityGroup> groups, SecurityGroup? dedicated, ISecurityGroupHolder holder, bool cluster, IReadOnlyList<string> current)
    {
        var record = context.Facts.Changes;
        if (dedicated is not null)
        {
            record.DedicatedGroupId = dedicated.GroupId;
            foreach (var rule in OwnRules(dedicated, plan.Port, requireMarker: false)) record.AddRule(rule);
            if (current.Contains(dedicated.GroupId, StringComparer.Ordinal)) RecordAttached(record, dedicated.GroupId, holder, cluster);
        }
        if (context.ResumedPlan is { } resumed && context.Request.SecurityGroupId is { } chosen && groups.FirstOrDefault(g => g.GroupId == chosen) is { } group)
        {
            foreach (var rule in OwnRules(group, plan.Port, requireMarker: true))
            {
                if (resumed.Changes.Any(c => c.StartsWith($"add inbound TCP {plan.Port} from {rule.Cidr} ", StringComparison.Ordinal))) record.AddRule(rule);
            }
        }
    }

    private static IEnumerable<RecordedRule> OwnRules(SecurityGroup sg, int port, bool requireMarker) =>
        from p in sg.IpPermissions ?? []
        where p.IpProtocol == "tcp" && p.FromPort == port && p.ToPort == port
        from r in p.Ipv4Ranges ?? []
        where r.CidrIp is { } cidr && cidr.EndsWith("/32", StringComparison.Ordinal) && (!requireMarker || r.Description == RuleDescription)
        select new RecordedRule(sg.GroupId, r.CidrIp, port);

    private static void RecordAttached(ChangeRecord record, string groupId, ISecurityGroupHolder holder, bool cluster)
    {
        record.DedicatedGroupId = groupId;
        record.GroupAttachedTo = holder.Name;
        record.GroupAttachedToCluster = cluster;
    }

    /// <summary>The instance's groups, or for an Aurora member its cluster's (ModifyDBCluster, docs/aws.md).</summary>
    private ISecurityGroupHolder Holder(string instanceIdentifier, string? cluster) =>
        cluster is null ? new RdsInstanceSecurityGroups(aws.Rds, instanceIdentifier) : new RdsClusterSecurityGroups(aws.Rds, cluster);

    private static string RequireVpc(SecurityGroupPlan plan) =>
        plan.VpcId ?? throw new StepFailedException($"{plan.TargetId} reports no VPC; PrequelBot cannot create {plan.DedicatedGroupName}");

    private static bool HasDefaultEgress(SecurityGroup group) =>
        (group.IpPermissionsEgress ?? []).Any(p => p.IpProtocol == "-1" && (p.Ipv4Ranges ?? []).Any(r => r.CidrIp == "0.0.0.0/0"));
}
