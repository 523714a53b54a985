using Amazon.EC2;
using Amazon.EC2.Model;
using PrequelBot.Aws.Planning;

namespace PrequelBot.Aws.Network;

/// <summary>
/// Finds and creates the dedicated group <c>prequelbot-&lt;target&gt;</c>. It is found by its tags
/// (<c>managed-by=prequelbot</c>, <c>prequelbot:target=&lt;target&gt;</c>) in the target's VPC, so a re-run or a crash
/// between create and attach never makes a second one.
/// </summary>
public static class DedicatedSecurityGroups
{
    public const string OnboardingTag = "prequelbot-onboarding";

    /// <summary>The tagged group of <paramref name="targetId"/> in <paramref name="vpcId"/>, or null. Several (made by hand) → the oldest id, deterministically the lowest.</summary>
    public static async Task<SecurityGroup?> FindAsync(IAmazonEC2 ec2, string vpcId, string targetId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        var response = await ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest
        {
            Filters =
            [
                new Filter("vpc-id", [vpcId]),
                new Filter("tag:" + SecurityGroupPlanner.ManagedByTag, [SecurityGroupPlanner.ManagedByValue]),
                new Filter("tag:" + SecurityGroupPlanner.TargetTag, [targetId]),
            ],
        }, cancellationToken).ConfigureAwait(false);
        return (response.SecurityGroups ?? []).OrderBy(g => g.GroupId, StringComparer.Ordinal).FirstOrDefault();
    }

    /// <summary>
    /// CreateSecurityGroup, tagged in the same call; on <c>InvalidGroup.Duplicate</c> the tagged group is looked up again.
    /// A same-named group without our tags is someone else's: the step fails rather than use it.
    /// Then the allow-all egress rule AWS gives every new group is revoked: the group only admits Prequel (groups are
    /// stateful, so replies need no outbound rule).
    /// </summary>
    public static async Task<string> CreateAsync(IAmazonEC2 ec2, string vpcId, string targetId, string onboardingId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        var name = SecurityGroupPlanner.DedicatedGroupName(targetId);
        string groupId;
        try
        {
            groupId = (await ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest
            {
                GroupName = name,
                Description = $"Prequel access to {targetId}, managed by PrequelBot",
                VpcId = vpcId,
                TagSpecifications =
                [
                    new TagSpecification
                    {
                        ResourceType = ResourceType.SecurityGroup,
                        Tags =
                        [
                            new Tag(SecurityGroupPlanner.ManagedByTag, SecurityGroupPlanner.ManagedByValue),
                            new Tag(SecurityGroupPlanner.TargetTag, targetId),
                            new Tag(OnboardingTag, onboardingId),
                            new Tag("Name", name),
                        ],
                    },
                ],
            }, cancellationToken).ConfigureAwait(false)).GroupId;
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidGroup.Duplicate")
        {
            groupId = (await FindAsync(ec2, vpcId, targetId, cancellationToken).ConfigureAwait(false))?.GroupId
                ?? throw new Workflows.Ports.StepFailedException(
                    $"A security group named {name} already exists in {vpcId} but is not tagged {SecurityGroupPlanner.ManagedByTag}={SecurityGroupPlanner.ManagedByValue}, " +
                    $"{SecurityGroupPlanner.TargetTag}={targetId}; rename it, or name a group of the target with --security-group", e);
        }
        await RevokeDefaultEgressAsync(ec2, groupId, cancellationToken).ConfigureAwait(false);
        return groupId;
    }

    /// <summary>Removes the allow-all IPv4 egress rule of a new group (already gone = fine).</summary>
    public static async Task RevokeDefaultEgressAsync(IAmazonEC2 ec2, string groupId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        try
        {
            await ec2.RevokeSecurityGroupEgressAsync(new RevokeSecurityGroupEgressRequest
            {
                GroupId = groupId,
                IpPermissions = [new IpPermission { IpProtocol = "-1", Ipv4Ranges = [new IpRange { CidrIp = "0.0.0.0/0" }] }],
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidPermission.NotFound")
        {
            // Already revoked by an earlier run.
        }
    }

    /// <summary>The inbound rules of a described group, IPv4 ranges only.</summary>
    public static IReadOnlyList<IngressRule> IngressRules(SecurityGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        return [.. (group.IpPermissions ?? []).Select(p => new IngressRule(group.GroupId, p.IpProtocol ?? "", p.FromPort, p.ToPort,
            [.. (p.Ipv4Ranges ?? []).Select(r => r.CidrIp).OfType<string>()]))];
    }
}
