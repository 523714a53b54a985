using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Planning;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>network-acl</c>: for the ACL of every subnet in the target's DB subnet group, judged per static IP by AWS's rule
/// order: inbound allow TCP &lt;port&gt; from the IP /32 and outbound allow TCP 1024-65535 to the IP /32, each only where
/// the ACL denies that traffic today (see <see cref="NetworkAclPlanner"/>). Entries match only the /32, so every customer
/// allow and deny keeps its effect for every other address (docs/aws.md).
/// Re-running creates nothing: every apply re-reads the ACLs and re-plans.
/// </summary>
public sealed class NetworkAclStepHandler(AwsClients aws, IPrequelEgress prequel, ILogger<NetworkAclStepHandler> logger) : IStepHandler
{
    private const int MaxRounds = 3;

    /// <summary>The return ports of Prequel's connections (the client's ephemeral range, as AWS recommends for NACLs).</summary>
    public const int EphemeralFrom = 1024;
    public const int EphemeralTo = 65535;

    public string StepName => StepNames.NetworkAcl;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ToStepPlan(await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false));
    }

    private static StepPlan ToStepPlan(IEnumerable<(string AclId, NetworkAclPlan Plan)> plans)
    {
        var changes = plans.SelectMany(p => p.Plan.ToCreate.Select(e => e.Describe(p.AclId))).ToList();
        return changes.Count == 0
            ? StepPlan.AlreadyInPlace(string.Join("; ", plans.SelectMany(p => p.Plan.Covered)))
            : StepPlan.Change(changes);
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var created = 0;
        for (var round = 1; round <= MaxRounds; round++)
        {
            var plans = await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false);
            if (plans.All(p => p.Plan.ToCreate.Count == 0))
            {
                return StepResult.Done(created == 0 ? "already in place" : $"created {created} network ACL entr{(created == 1 ? "y" : "ies")}");
            }
            if (round == 1)
            {
                // Later rounds only renumber what was approved around a racing writer (see MaxRounds).
                context.EnsureApproved(ToStepPlan(plans));
            }
            var conflict = false;
            foreach (var (aclId, plan) in plans)
            {
                foreach (var entry in plan.ToCreate)
                {
                    try
                    {
                        await aws.Ec2.CreateNetworkAclEntryAsync(new CreateNetworkAclEntryRequest
                        {
                            NetworkAclId = aclId,
                            RuleNumber = entry.RuleNumber,
                            Protocol = "6",
                            RuleAction = RuleAction.Allow,
                            Egress = entry.Rule.Egress,
                            CidrBlock = entry.Rule.Cidr.ToString(),
                            PortRange = new PortRange { From = entry.Rule.FromPort, To = entry.Rule.ToPort },
                        }, cancellationToken).ConfigureAwait(false);
                        created++;
                        AwsLog.AclEntryCreated(logger, aclId, entry.RuleNumber, entry.Rule, context.OnboardingId);
                        context.Facts.Changes.AddAclEntry(Recorded(aclId, entry.RuleNumber, entry.Rule));
                    }
                    catch (AmazonEC2Exception e) when (e.ErrorCode == "NetworkAclEntryAlreadyExists")
                    {
                        // Someone (or an earlier run) took the number: re-read and re-plan.
                        conflict = true;
                        break;
                    }
                    catch (AmazonServiceException e)
                    {
                        throw AwsStepSupport.Translate(e, "CreateNetworkAclEntry", logger);
                    }
                }
                if (conflict)
                {
                    break;
                }
            }
        }
        throw new StepFailedException("network ACL entries kept changing while PrequelBot added its rules; run retry");
    }

    private async Task<IReadOnlyList<(string AclId, NetworkAclPlan Plan)>> PlanCoreAsync(StepContext context, CancellationToken cancellationToken)
    {
        var ips = prequel.StaticIps();
        var (target, _) = AwsStepSupport.Target(context);
        if (target.SubnetIds.Count == 0)
        {
            throw new StepFailedException($"{target.InstanceIdentifier} lists no subnets in its DB subnet group; PrequelBot cannot find its network ACLs");
        }
        List<WantedAclRule> wanted =
        [
            .. ips.Select(ip => new WantedAclRule(false, Cidr.Host(ip), target.Port, target.Port)),
            .. ips.Select(ip => new WantedAclRule(true, Cidr.Host(ip), EphemeralFrom, EphemeralTo)),
        ];
        try
        {
            var acls = await AclsAsync(target, cancellationToken).ConfigureAwait(false);
            List<(string, NetworkAclPlan)> plans = [];
            foreach (var acl in acls)
            {
                var entries = (acl.Entries ?? []).Select(e => new AclEntry(
                    e.RuleNumber ?? 0, e.Egress ?? false, e.RuleAction == RuleAction.Allow, e.Protocol ?? "", e.CidrBlock, e.PortRange?.From, e.PortRange?.To)).ToList();
                if (context.ResumedPlan is { } resumed && !context.IsPreview)
                {
                    RecordResumed(context.Facts.Changes, acl.NetworkAclId, entries, wanted, resumed);
                }
                try
                {
                    plans.Add((acl.NetworkAclId, NetworkAclPlanner.Plan(acl.NetworkAclId, entries, wanted)));
                }
                catch (InvalidOperationException e)
                {
                    throw new StepFailedException(e.Message, e);
                }
            }
            return plans;
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeNetworkAcls", logger);
        }
    }

    /// <summary>
    /// After a run of this approved step stopped before its save: each live entry that is exactly one the approved plan
    /// was to add (same ACL, number, direction, /32 and ports) was made by that run, and goes into the change record.
    /// ACL entries carry no tag, so the approved rule numbers are how the bot finds its own again (docs/workflow.md).
    /// </summary>
    private static void RecordResumed(ChangeRecord record, string aclId, IReadOnlyList<AclEntry> entries, IReadOnlyList<WantedAclRule> wanted, StepPlan resumed)
    {
        foreach (var entry in entries.Where(e => e.Allow && e.Protocol == "6"))
        {
            var rule = wanted.FirstOrDefault(w => w.Egress == entry.Egress && w.Cidr.ToString() == entry.CidrBlock && w.FromPort == entry.FromPort && w.ToPort == entry.ToPort);
            if (rule is null) continue;
            var line = $"add to {aclId} rule {entry.RuleNumber}: {rule}";
            if (resumed.Changes.Any(c => c == line || c.StartsWith(line + ",", StringComparison.Ordinal)))
            {
                record.AddAclEntry(Recorded(aclId, entry.RuleNumber, rule));
            }
        }
    }

    private static RecordedAclEntry Recorded(string aclId, int number, WantedAclRule rule) =>
        new(aclId, number, rule.Egress, rule.Cidr.ToString(), rule.FromPort, rule.ToPort);

    /// <summary>The ACLs associated with the subnets (deduplicated), plus the VPC's default ACL for any subnet with no association.</summary>
    private async Task<IReadOnlyList<NetworkAcl>> AclsAsync(DatabaseFacts target, CancellationToken cancellationToken)
    {
        var ec2 = aws.Ec2;
        Dictionary<string, NetworkAcl> acls = new(StringComparer.Ordinal);
        HashSet<string> associated = new(StringComparer.Ordinal);
        string? nextToken = null;
        do
        {
            var page = await ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest
            {
                Filters = [new Filter("association.subnet-id", [.. target.SubnetIds])],
                NextToken = nextToken,
            }, cancellationToken).ConfigureAwait(false);
            foreach (var acl in page.NetworkAcls ?? [])
            {
                acls.TryAdd(acl.NetworkAclId, acl);
                associated.UnionWith((acl.Associations ?? []).Select(a => a.SubnetId).OfType<string>());
            }
            nextToken = page.NextToken;
        }
        while (!string.IsNullOrEmpty(nextToken));

        if (target.SubnetIds.Any(s => !associated.Contains(s)) && target.VpcId is not null)
        {
            var defaults = await ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest
            {
                Filters = [new Filter("vpc-id", [target.VpcId]), new Filter("default", ["true"])],
            }, cancellationToken).ConfigureAwait(false);
            foreach (var acl in defaults.NetworkAcls ?? [])
            {
                acls.TryAdd(acl.NetworkAclId, acl);
            }
        }
        return [.. acls.Values.OrderBy(a => a.NetworkAclId, StringComparer.Ordinal)];
    }
}
