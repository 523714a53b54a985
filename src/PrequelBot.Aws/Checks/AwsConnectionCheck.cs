using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Checks;

/// <summary>
/// The AWS part of <c>check</c> (docs/workflow.md, "Check"): the target's public flag; each recorded security-group rule
/// still present; each static IP still admitted on the port by a group of the target; each recorded ACL entry still as
/// it was made; and, per static IP and direction, the entry AWS's rule order now applies (<see cref="NetworkAclPlanner.Decide"/>)
/// still an allow. Describe calls only: changes nothing.
/// </summary>
public sealed class AwsConnectionCheck(AwsClients aws, IPrequelEgress prequel, ILogger<AwsConnectionCheck> logger) : IConnectionCheck
{
    public string Area => "AWS";

    public async Task<IReadOnlyList<CheckFinding>> CheckAsync(ConnectionCheckContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = context.Facts.Target ?? context.Facts.Source;
        if (target is null) return [CheckFinding.Drift("the connect recorded no target instance; connect it again")];
        List<CheckFinding> findings = [];
        var ips = prequel.StaticIps();
        try
        {
            var live = await aws.Rds.DescribeDBInstanceAsync(target.InstanceIdentifier, cancellationToken).ConfigureAwait(false);
            if (live is null) return [CheckFinding.Drift($"RDS instance {target.InstanceIdentifier} no longer exists")];
            findings.Add(live.PubliclyAccessible
                ? CheckFinding.Fine($"{target.InstanceIdentifier} is publicly accessible")
                : CheckFinding.Drift($"{target.InstanceIdentifier} is no longer publicly accessible"));
            var port = target.Port;
            var groupIds = live.SecurityGroupIds.Union(context.Changes.Rules.Select(r => r.GroupId), StringComparer.Ordinal).ToList();
            var groups = groupIds.Count == 0 ? [] : (await aws.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("group-id", groupIds)] }, cancellationToken).ConfigureAwait(false)).SecurityGroups ?? [];
            foreach (var rule in context.Changes.Rules)
            {
                var group = groups.FirstOrDefault(g => g.GroupId == rule.GroupId);
                var present = group is not null && (group.IpPermissions ?? []).Any(p => p.IpProtocol == "tcp" && p.FromPort == rule.Port && p.ToPort == rule.Port && (p.Ipv4Ranges ?? []).Any(r => r.CidrIp == rule.Cidr));
                findings.Add(present
                    ? CheckFinding.Fine($"security group {rule.GroupId} allows TCP {rule.Port} from {rule.Cidr}")
                    : CheckFinding.Drift($"security group {rule.GroupId} no longer has the rule TCP {rule.Port} from {rule.Cidr} PrequelBot added"));
            }
            var attached = groups.Where(g => live.SecurityGroupIds.Contains(g.GroupId, StringComparer.Ordinal)).ToList();
            foreach (var ip in ips)
            {
                var admitting = attached.FirstOrDefault(g => Admits(g, ip, port));
                findings.Add(admitting is not null
                    ? CheckFinding.Fine($"{ip} reaches TCP {port}: admitted by {admitting.GroupId}")
                    : CheckFinding.Drift($"{ip} cannot reach TCP {port}: no security group of {target.InstanceIdentifier} admits it"));
            }
            findings.AddRange(await CheckAclsAsync(context, live.SubnetIds.Count > 0 ? live.SubnetIds : target.SubnetIds, ips, port, cancellationToken).ConfigureAwait(false));
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "Describe", logger);
        }
        return findings;
    }

    private async Task<IReadOnlyList<CheckFinding>> CheckAclsAsync(ConnectionCheckContext context, IReadOnlyList<string> subnetIds, IReadOnlyList<IPAddress> ips, int port, CancellationToken cancellationToken)
    {
        Dictionary<string, NetworkAcl> acls = new(StringComparer.Ordinal);
        if (subnetIds.Count > 0)
        {
            string? next = null;
            do
            {
                var page = await aws.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { Filters = [new Filter("association.subnet-id", [.. subnetIds])], NextToken = next }, cancellationToken).ConfigureAwait(false);
                foreach (var acl in page.NetworkAcls ?? []) acls.TryAdd(acl.NetworkAclId, acl);
                next = page.NextToken;
            }
            while (!string.IsNullOrEmpty(next));
        }
        List<CheckFinding> findings = [];
        foreach (var entry in context.Changes.AclEntries)
        {
            acls.TryGetValue(entry.AclId, out var acl);
            var live = acl?.Entries?.FirstOrDefault(e => e.RuleNumber == entry.RuleNumber && (e.Egress ?? false) == entry.Egress);
            var same = live is not null && live.RuleAction == RuleAction.Allow && live.Protocol == "6" && live.CidrBlock == entry.Cidr &&
                live.PortRange?.From == entry.FromPort && live.PortRange?.To == entry.ToPort;
            findings.Add(same ? CheckFinding.Fine($"network ACL entry {entry} is in place") : CheckFinding.Drift($"network ACL entry {entry} PrequelBot created is gone or changed"));
        }
        foreach (var acl in acls.Values.OrderBy(a => a.NetworkAclId, StringComparer.Ordinal))
        {
            var entries = (acl.Entries ?? []).Select(e => new AclEntry(e.RuleNumber ?? 0, e.Egress ?? false, e.RuleAction == RuleAction.Allow, e.Protocol ?? "", e.CidrBlock, e.PortRange?.From, e.PortRange?.To)).ToList();
            foreach (var ip in ips)
            {
                var inbound = NetworkAclPlanner.Decide(entries, egress: false, ip, port);
                // The replies leave on an ephemeral port; the lowest one stands for the range (as network-acl plans it).
                var outbound = NetworkAclPlanner.Decide(entries, egress: true, ip, 1024);
                findings.Add(Effective(acl.NetworkAclId, "inbound", $"TCP {port} from {ip}", inbound));
                findings.Add(Effective(acl.NetworkAclId, "outbound", $"TCP 1024-65535 to {ip}", outbound));
            }
        }
        return findings;
    }

    private static CheckFinding Effective(string aclId, string direction, string traffic, AclEntry? deciding) => deciding is { Allow: true }
        ? CheckFinding.Fine($"network ACL {aclId} {direction}: {traffic} allowed by rule {deciding.RuleNumber}")
        : CheckFinding.Drift($"network ACL {aclId} {direction}: {traffic} is denied by {(deciding is null ? "the default * rule" : $"rule {deciding.RuleNumber} ({NetworkAclPlanner.Describe(deciding)})")}");

    private static bool Admits(SecurityGroup group, IPAddress ip, int port) =>
        (group.IpPermissions ?? []).Any(p =>
            (p.IpProtocol == "-1" || (p.IpProtocol == "tcp" && (p.FromPort ?? 0) <= port && port <= (p.ToPort ?? 65535))) &&
            (p.Ipv4Ranges ?? []).Any(r => Cidr.TryParseV4(r.CidrIp, out var network) && network.Contains(ip)));
}
