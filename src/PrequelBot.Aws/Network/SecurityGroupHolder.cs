using PrequelBot.Aws.Rds;

namespace PrequelBot.Aws.Network;

/// <summary>
/// The resource whose VPC security groups the security-group step extends: an RDS DB instance (ModifyDBInstance) or an
/// Aurora cluster, whose members take their groups from it (ModifyDBCluster).
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

    /// <summary>Removes <paramref name="groupId"/> from its groups, keeping every other (used by <c>disconnect</c>); returns the resulting list. Idempotent.</summary>
    Task<IReadOnlyList<string>> RemoveAsync(string groupId, CancellationToken cancellationToken);
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

    public Task<IReadOnlyList<string>> AddAsync(string groupId, CancellationToken cancellationToken) =>
        SecurityGroupLists.AddAsync(this, groupId, async wanted => (await rds.SetVpcSecurityGroupsAsync(instanceIdentifier, wanted, cancellationToken).ConfigureAwait(false)).SecurityGroupIds, cancellationToken);

    public Task<IReadOnlyList<string>> RemoveAsync(string groupId, CancellationToken cancellationToken) =>
        SecurityGroupLists.RemoveAsync(this, groupId, async wanted => (await rds.SetVpcSecurityGroupsAsync(instanceIdentifier, wanted, cancellationToken).ConfigureAwait(false)).SecurityGroupIds, cancellationToken);
}

/// <summary>
/// An Aurora cluster's VPC security groups. Its member instances use the cluster's groups, so the dedicated group is added
/// here (ModifyDBCluster <c>VpcSecurityGroupIds</c> = current + new, see docs/aws.md and
/// https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBCluster.html), never per instance.
/// </summary>
public sealed class RdsClusterSecurityGroups(IRdsClient rds, string clusterIdentifier) : ISecurityGroupHolder
{
    public string Name => clusterIdentifier;

    public async Task<IReadOnlyList<string>> CurrentGroupsAsync(CancellationToken cancellationToken)
    {
        var cluster = await rds.DescribeDBClusterAsync(clusterIdentifier, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"No Aurora cluster named {clusterIdentifier}");
        return cluster.SecurityGroupIds;
    }

    public Task<IReadOnlyList<string>> AddAsync(string groupId, CancellationToken cancellationToken) =>
        SecurityGroupLists.AddAsync(this, groupId, async wanted => (await rds.SetClusterVpcSecurityGroupsAsync(clusterIdentifier, wanted, cancellationToken).ConfigureAwait(false)).SecurityGroupIds, cancellationToken);

    public Task<IReadOnlyList<string>> RemoveAsync(string groupId, CancellationToken cancellationToken) =>
        SecurityGroupLists.RemoveAsync(this, groupId, async wanted => (await rds.SetClusterVpcSecurityGroupsAsync(clusterIdentifier, wanted, cancellationToken).ConfigureAwait(false)).SecurityGroupIds, cancellationToken);
}

/// <summary>current + new, sent only when the group is missing (AWS replaces the whole list on modify).</summary>
internal static class SecurityGroupLists
{
    public static async Task<IReadOnlyList<string>> AddAsync(ISecurityGroupHolder holder, string groupId, Func<IReadOnlyList<string>, Task<IReadOnlyList<string>>> set, CancellationToken cancellationToken)
    {
        var current = await holder.CurrentGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (current.Contains(groupId, StringComparer.Ordinal))
        {
            return current;
        }
        IReadOnlyList<string> wanted = [.. current, groupId];
        var modified = await set(wanted).ConfigureAwait(false);
        return modified.Count > 0 ? modified : wanted;
    }

    /// <summary>current − the group, sent only when it is there; never leaves the holder with no group at all.</summary>
    public static async Task<IReadOnlyList<string>> RemoveAsync(ISecurityGroupHolder holder, string groupId, Func<IReadOnlyList<string>, Task<IReadOnlyList<string>>> set, CancellationToken cancellationToken)
    {
        var current = await holder.CurrentGroupsAsync(cancellationToken).ConfigureAwait(false);
        if (!current.Contains(groupId, StringComparer.Ordinal))
        {
            return current;
        }
        IReadOnlyList<string> wanted = [.. current.Where(g => !string.Equals(g, groupId, StringComparison.Ordinal))];
        if (wanted.Count == 0)
        {
            throw new InvalidOperationException($"{groupId} is the only security group of {holder.Name}; PrequelBot will not leave it with none");
        }
        await set(wanted).ConfigureAwait(false);
        return wanted;
    }
}
