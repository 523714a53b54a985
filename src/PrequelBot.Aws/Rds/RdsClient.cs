namespace PrequelBot.Aws.Rds;

/// <summary>
/// <see cref="IRdsClient"/> over <see cref="RdsQueryClient"/>. Lists are sent in the model-named form
/// (<c>Tags.Tag.N.Key</c>), which AWS, moto and LocalStack all accept.
/// </summary>
public sealed class RdsClient(RdsQueryClient client) : IRdsClient
{
    public async Task<RdsDbInstance?> DescribeDBInstanceAsync(string instanceIdentifier, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.InvokeActionAsync("DescribeDBInstances", RdsQueryParameters.DescribeDBInstances(instanceIdentifier), cancellationToken).ConfigureAwait(false);
            return RdsXml.ParseDescribeDBInstances(result).FirstOrDefault(i => string.Equals(i.Identifier, instanceIdentifier, StringComparison.OrdinalIgnoreCase));
        }
        catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBInstanceNotFound)
        {
            return null;
        }
    }

    public async Task<RdsDbInstance> CreateDBInstanceReadReplicaAsync(CreateReadReplicaRequest request, CancellationToken cancellationToken)
    {
        var result = await client.InvokeActionAsync("CreateDBInstanceReadReplica", RdsQueryParameters.CreateDBInstanceReadReplica(request), cancellationToken).ConfigureAwait(false);
        return RdsXml.ParseSingleInstance(result);
    }

    public async Task<RdsDbInstance> MakePubliclyAccessibleAsync(string instanceIdentifier, CancellationToken cancellationToken)
    {
        var result = await client.InvokeActionAsync("ModifyDBInstance", RdsQueryParameters.MakePubliclyAccessible(instanceIdentifier), cancellationToken).ConfigureAwait(false);
        return RdsXml.ParseSingleInstance(result);
    }

    public async Task<RdsDbInstance> SetPubliclyAccessibleAsync(string instanceIdentifier, bool publiclyAccessible, CancellationToken cancellationToken)
    {
        var result = await client.InvokeActionAsync("ModifyDBInstance", RdsQueryParameters.SetPubliclyAccessible(instanceIdentifier, publiclyAccessible), cancellationToken).ConfigureAwait(false);
        return RdsXml.ParseSingleInstance(result);
    }

    public async Task<RdsDbInstance?> DeleteDBInstanceAsync(string instanceIdentifier, string? finalSnapshotIdentifier, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.InvokeActionAsync("DeleteDBInstance", RdsQueryParameters.DeleteDBInstance(instanceIdentifier, finalSnapshotIdentifier), cancellationToken).ConfigureAwait(false);
            return RdsXml.ParseSingleInstance(result);
        }
        catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBInstanceNotFound)
        {
            return null;
        }
    }

    public async Task<RdsDbSnapshot> CreateDBSnapshotAsync(string snapshotIdentifier, string instanceIdentifier, IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken)
    {
        var result = await client.InvokeActionAsync("CreateDBSnapshot", RdsQueryParameters.CreateDBSnapshot(snapshotIdentifier, instanceIdentifier, tags), cancellationToken).ConfigureAwait(false);
        return RdsXml.ParseSingleSnapshot(result);
    }

    public async Task<RdsDbSnapshot?> DescribeDBSnapshotAsync(string snapshotIdentifier, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.InvokeActionAsync("DescribeDBSnapshots", RdsQueryParameters.DescribeDBSnapshots(snapshotIdentifier), cancellationToken).ConfigureAwait(false);
            return RdsXml.ParseDescribeDBSnapshots(result).FirstOrDefault(s => string.Equals(s.Identifier, snapshotIdentifier, StringComparison.OrdinalIgnoreCase));
        }
        catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBSnapshotNotFound)
        {
            return null;
        }
    }

    public async Task<RdsDbInstance> SetVpcSecurityGroupsAsync(string instanceIdentifier, IReadOnlyList<string> securityGroupIds, CancellationToken cancellationToken)
    {
        var result = await client.InvokeActionAsync("ModifyDBInstance", RdsQueryParameters.SetVpcSecurityGroups(instanceIdentifier, securityGroupIds), cancellationToken).ConfigureAwait(false);
        return RdsXml.ParseSingleInstance(result);
    }

    public async Task<RdsDbSubnetGroup?> DescribeDBSubnetGroupAsync(string subnetGroupName, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.InvokeActionAsync("DescribeDBSubnetGroups", RdsQueryParameters.DescribeDBSubnetGroups(subnetGroupName), cancellationToken).ConfigureAwait(false);
            return RdsXml.ParseDescribeDBSubnetGroups(result) is [var first, ..] ? first : null;
        }
        catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBSubnetGroupNotFound)
        {
            return null;
        }
    }

    public async Task<RdsDbCluster?> DescribeDBClusterAsync(string clusterIdentifier, CancellationToken cancellationToken)
    {
        try
        {
            var result = await client.InvokeActionAsync("DescribeDBClusters", RdsQueryParameters.DescribeDBClusters(clusterIdentifier), cancellationToken).ConfigureAwait(false);
            return RdsXml.ParseDescribeDBClusters(result).FirstOrDefault(c => string.Equals(c.Identifier, clusterIdentifier, StringComparison.OrdinalIgnoreCase));
        }
        catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBClusterNotFound)
        {
            return null;
        }
    }

    public async Task<RdsDbCluster> SetClusterVpcSecurityGroupsAsync(string clusterIdentifier, IReadOnlyList<string> securityGroupIds, CancellationToken cancellationToken)
    {
        var result = await client.InvokeActionAsync("ModifyDBCluster", RdsQueryParameters.SetClusterVpcSecurityGroups(clusterIdentifier, securityGroupIds), cancellationToken).ConfigureAwait(false);
        return RdsXml.ParseSingleCluster(result);
    }

    public async Task<RdsDbInstance> CreateClusterInstanceAsync(CreateClusterInstanceRequest request, CancellationToken cancellationToken)
    {
        var result = await client.InvokeActionAsync("CreateDBInstance", RdsQueryParameters.CreateClusterInstance(request), cancellationToken).ConfigureAwait(false);
        return RdsXml.ParseSingleInstance(result);
    }
}

/// <summary>The Query parameters of each action (after <c>Action</c> and <c>Version</c>), pinned by a contract test.</summary>
public static class RdsQueryParameters
{
    public static IReadOnlyList<KeyValuePair<string, string>> DescribeDBInstances(string instanceIdentifier) =>
        [new("DBInstanceIdentifier", instanceIdentifier)];

    public static IReadOnlyList<KeyValuePair<string, string>> DescribeDBSubnetGroups(string subnetGroupName) =>
        [new("DBSubnetGroupName", subnetGroupName)];

    public static IReadOnlyList<KeyValuePair<string, string>> DescribeDBClusters(string clusterIdentifier) =>
        [new("DBClusterIdentifier", clusterIdentifier)];

    /// <summary>ModifyDBCluster: the cluster's whole new group list, then <c>ApplyImmediately=true</c>; nothing else.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> SetClusterVpcSecurityGroups(string clusterIdentifier, IReadOnlyList<string> securityGroupIds)
    {
        ArgumentNullException.ThrowIfNull(securityGroupIds);
        if (securityGroupIds.Count == 0)
        {
            throw new ArgumentException("a cluster keeps at least one VPC security group", nameof(securityGroupIds));
        }
        return [new("DBClusterIdentifier", clusterIdentifier), .. SecurityGroupIds(securityGroupIds), new("ApplyImmediately", "true")];
    }

    /// <summary>
    /// CreateDBInstance of an Aurora reader: no storage, credentials, groups or subnet group (the cluster has them, and
    /// AWS rejects some of them for cluster members).
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> CreateClusterInstance(CreateClusterInstanceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return
        [
            new("DBInstanceIdentifier", request.InstanceIdentifier),
            new("DBClusterIdentifier", request.ClusterIdentifier),
            new("DBInstanceClass", request.InstanceClass),
            new("Engine", request.Engine),
            new("PubliclyAccessible", request.PubliclyAccessible ? "true" : "false"),
            .. Tags(request.Tags),
        ];
    }

    public static IReadOnlyList<KeyValuePair<string, string>> MakePubliclyAccessible(string instanceIdentifier) =>
        [new("DBInstanceIdentifier", instanceIdentifier), new("PubliclyAccessible", "true"), new("ApplyImmediately", "true")];

    public static IReadOnlyList<KeyValuePair<string, string>> SetPubliclyAccessible(string instanceIdentifier, bool publiclyAccessible) =>
        [new("DBInstanceIdentifier", instanceIdentifier), new("PubliclyAccessible", publiclyAccessible ? "true" : "false"), new("ApplyImmediately", "true")];

    /// <summary>
    /// DeleteDBInstance keeping no automated backups (an instance this bot made): without <paramref name="finalSnapshotIdentifier"/>
    /// <c>SkipFinalSnapshot=true</c>; with it <c>SkipFinalSnapshot=false</c> and <c>FinalDBSnapshotIdentifier</c>.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> DeleteDBInstance(string instanceIdentifier, string? finalSnapshotIdentifier = null) =>
        finalSnapshotIdentifier is null
            ? [new("DBInstanceIdentifier", instanceIdentifier), new("SkipFinalSnapshot", "true"), new("DeleteAutomatedBackups", "true")]
            : [new("DBInstanceIdentifier", instanceIdentifier), new("SkipFinalSnapshot", "false"), new("FinalDBSnapshotIdentifier", finalSnapshotIdentifier), new("DeleteAutomatedBackups", "true")];

    /// <summary>CreateDBSnapshot of one instance with model-named tags.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> CreateDBSnapshot(string snapshotIdentifier, string instanceIdentifier, IReadOnlyList<KeyValuePair<string, string>> tags) =>
        [new("DBSnapshotIdentifier", snapshotIdentifier), new("DBInstanceIdentifier", instanceIdentifier), .. Tags(tags)];

    public static IReadOnlyList<KeyValuePair<string, string>> DescribeDBSnapshots(string snapshotIdentifier) =>
        [new("DBSnapshotIdentifier", snapshotIdentifier)];

    /// <summary>The whole new list (RDS replaces the instance's groups with it), then <c>ApplyImmediately=true</c>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> SetVpcSecurityGroups(string instanceIdentifier, IReadOnlyList<string> securityGroupIds)
    {
        ArgumentNullException.ThrowIfNull(securityGroupIds);
        if (securityGroupIds.Count == 0)
        {
            throw new ArgumentException("an instance keeps at least one VPC security group", nameof(securityGroupIds));
        }
        return [new("DBInstanceIdentifier", instanceIdentifier), .. SecurityGroupIds(securityGroupIds), new("ApplyImmediately", "true")];
    }

    public static IReadOnlyList<KeyValuePair<string, string>> CreateDBInstanceReadReplica(CreateReadReplicaRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        List<KeyValuePair<string, string>> parameters =
        [
            new("DBInstanceIdentifier", request.ReplicaIdentifier),
            new("SourceDBInstanceIdentifier", request.SourceIdentifier),
        ];
        if (!string.IsNullOrEmpty(request.InstanceClass))
        {
            parameters.Add(new("DBInstanceClass", request.InstanceClass));
        }
        parameters.Add(new("PubliclyAccessible", request.PubliclyAccessible ? "true" : "false"));
        parameters.AddRange(SecurityGroupIds(request.VpcSecurityGroupIds));
        if (!string.IsNullOrEmpty(request.SubnetGroupName))
        {
            parameters.Add(new("DBSubnetGroupName", request.SubnetGroupName));
        }
        parameters.AddRange(Tags(request.Tags));
        return parameters;
    }

    /// <summary><c>VpcSecurityGroupIds.VpcSecurityGroupId.N</c>, counting from 1 (the model-named form moto and LocalStack read).</summary>
    public static IEnumerable<KeyValuePair<string, string>> SecurityGroupIds(IEnumerable<string> groupIds)
    {
        ArgumentNullException.ThrowIfNull(groupIds);
        return groupIds.Select((id, i) => new KeyValuePair<string, string>($"VpcSecurityGroupIds.VpcSecurityGroupId.{i + 1}", id));
    }

    /// <summary><c>Tags.Tag.N.Key</c> / <c>Tags.Tag.N.Value</c>, counting from 1.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Tags(IEnumerable<KeyValuePair<string, string>> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var n = 0;
        foreach (var (key, value) in tags)
        {
            n++;
            yield return new($"Tags.Tag.{n}.Key", key);
            yield return new($"Tags.Tag.{n}.Value", value);
        }
    }
}
