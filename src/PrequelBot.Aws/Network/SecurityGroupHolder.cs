using PrequelBot.Aws.Rds;

namespace PrequelBot.Aws.Network;

/// <summary>
/// The resource whose VPC security groups the security-group step extends: an RDS DB instance here
/// (ModifyDBInstance); an Aurora cluster would implement it with DescribeDBClusters/ModifyDBCluster.
/// </summary>
/// <remarks>
/// AWS replaces the whole list on modify (docs/aws.md), so <see cref="AddAsync"/> re-reads the current groups right
/// before sending current + the new one, and sends nothing when the group is already there.
/// </remarks>
public interface ISecurityGroupHolder
{
    /// <summary>Its identifier, for messages.</summary>
    string Name { get; }

    /// <summary>The groups it has now, in AWS's order.</summary>
    Task<IReadOnlyList<string>> CurrentGroupsAsync(CancellationToken cancellationToken);

    /// <summary>Adds <paramref name="groupId"/> to its groups, keeping every other; returns the resulting list. Idempotent.</summary>
    Task<IReadOnlyList<string>> AddAsync(string groupId, CancellationToken cancellationToken);
}

/// <summary>An RDS DB instance's VPC security groups.</summary>
public sealed class RdsInstanceSecurityGroups(IRdsClient rds, string instanceIdentifier) : ISecurityGroupHolder
{
    public string Name => instanceIdentifier;

    public async Task<IReadOnlyList<string>> CurrentGroupsAsync(CancellationToken cancellationToken)
    {
        var instance = await rds.DescribeDBInstanceAsync(instanceIdentifier, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"No RDS instance named {instanceIdentifier}");
        return instance.SecurityGroupIds;
    }

    public async Task<IReadOnlyList<string>> AddAsync(string groupId, CancellationToken cancellationToken)
    {
        var current = await CurrentGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (current.Contains(groupId, StringComparer.Ordinal))
        {
            return current;
        }
        IReadOnlyList<string> wanted = [.. current, groupId];
        var modified = await rds.SetVpcSecurityGroupsAsync(instanceIdentifier, wanted, cancellationToken).ConfigureAwait(false);
        return modified.SecurityGroupIds.Count > 0 ? modified.SecurityGroupIds : wanted;
    }
}
