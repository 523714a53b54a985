namespace PrequelBot.Aws.Rds;

/// <summary>
/// The Amazon RDS Query API (2014-10-31) calls PrequelBot makes. Requests are signed with SigV4 using
/// credentials from the AWS SDK default chain and retried by AWSSDK.Core (throttling, 5xx, clock skew).
/// </summary>
/// <remarks>
/// Errors other than the documented "not found" cases surface as <see cref="RdsServiceException"/> carrying
/// AWS's <c>ErrorCode</c> (e.g. <c>DBInstanceAlreadyExists</c>, <c>InvalidDBInstanceState</c>) and message.
/// Error codes: <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/CommonErrors.html"/>.
/// </remarks>
public interface IRdsClient
{
    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html">DescribeDBInstances</see>
    /// for one identifier. Read-only. Returns null when AWS answers <c>DBInstanceNotFound</c>.
    /// </summary>
    Task<RdsDbInstance?> DescribeDBInstanceAsync(string instanceIdentifier, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html">CreateDBInstanceReadReplica</see>.
    /// Not idempotent by itself: a second call answers <c>DBInstanceAlreadyExists</c>, which callers treat as "already done"
    /// after checking the existing instance.
    /// </summary>
    Task<RdsDbInstance> CreateDBInstanceReadReplicaAsync(CreateReadReplicaRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html">ModifyDBInstance</see>
    /// with <c>PubliclyAccessible=true</c> and <c>ApplyImmediately=true</c> only (never security groups: that would replace the set).
    /// Idempotent.
    /// </summary>
    Task<RdsDbInstance> MakePubliclyAccessibleAsync(string instanceIdentifier, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html">ModifyDBInstance</see>
    /// with <c>VpcSecurityGroupIds</c> and <c>ApplyImmediately=true</c> only. AWS <b>replaces</b> the instance's whole list
    /// with <paramref name="securityGroupIds"/>, so callers pass the groups the instance has now plus the one they add,
    /// read just before (docs/aws.md). Idempotent for the same list.
    /// </summary>
    Task<RdsDbInstance> SetVpcSecurityGroupsAsync(string instanceIdentifier, IReadOnlyList<string> securityGroupIds, CancellationToken cancellationToken);

    /// <summary>
    /// ModifyDBInstance PubliclyAccessible=<paramref name="publiclyAccessible"/>, ApplyImmediately=true (used by
    /// <c>restore-public-access</c> to turn off a flag this bot turned on).
    /// </summary>
    Task<RdsDbInstance> SetPubliclyAccessibleAsync(string instanceIdentifier, bool publiclyAccessible, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html">DeleteDBInstance</see>
    /// of an instance this bot created, with <c>DeleteAutomatedBackups=true</c>. Without <paramref name="finalSnapshotIdentifier"/>:
    /// <c>SkipFinalSnapshot=true</c> (AWS requires it for a read replica, and refuses a final snapshot of an Aurora cluster
    /// member). With it: <c>SkipFinalSnapshot=false</c> and <c>FinalDBSnapshotIdentifier</c>, valid only for a standalone
    /// instance (docs/aws.md, "Final snapshot"). Returns the instance as AWS now reports it (<c>deleting</c>); null when it
    /// was already gone.
    /// </summary>
    Task<RdsDbInstance?> DeleteDBInstanceAsync(string instanceIdentifier, string? finalSnapshotIdentifier, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBSnapshot.html">CreateDBSnapshot</see>:
    /// a manual snapshot of <paramref name="instanceIdentifier"/> (which must be <c>available</c>), tagged with <paramref name="tags"/>.
    /// Not idempotent by itself: a second call answers <c>DBSnapshotAlreadyExists</c>.
    /// </summary>
    Task<RdsDbSnapshot> CreateDBSnapshotAsync(string snapshotIdentifier, string instanceIdentifier, IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html">DescribeDBSnapshots</see>
    /// for one identifier. Read-only. Returns null when AWS answers <c>DBSnapshotNotFound</c>.
    /// </summary>
    Task<RdsDbSnapshot?> DescribeDBSnapshotAsync(string snapshotIdentifier, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSubnetGroups.html">DescribeDBSubnetGroups</see>
    /// for one name. Read-only. Returns null when AWS answers <c>DBSubnetGroupNotFoundFault</c>.
    /// </summary>
    Task<RdsDbSubnetGroup?> DescribeDBSubnetGroupAsync(string subnetGroupName, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html">DescribeDBClusters</see>
    /// for one Aurora cluster. Read-only. Returns null when AWS answers <c>DBClusterNotFoundFault</c>.
    /// </summary>
    Task<RdsDbCluster?> DescribeDBClusterAsync(string clusterIdentifier, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBCluster.html">ModifyDBCluster</see>
    /// with <c>VpcSecurityGroupIds</c> and <c>ApplyImmediately=true</c> only. Like ModifyDBInstance, AWS <b>replaces</b> the
    /// cluster's list, so callers pass its current groups plus the one they add. Idempotent for the same list.
    /// </summary>
    Task<RdsDbCluster> SetClusterVpcSecurityGroupsAsync(string clusterIdentifier, IReadOnlyList<string> securityGroupIds, CancellationToken cancellationToken);

    /// <summary>
    /// <see href="https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html">CreateDBInstance</see>
    /// of a reader in an Aurora cluster (<c>DBClusterIdentifier</c>; groups and subnet group come from the cluster). Not
    /// idempotent by itself: a second call answers <c>DBInstanceAlreadyExists</c>.
    /// </summary>
    Task<RdsDbInstance> CreateClusterInstanceAsync(CreateClusterInstanceRequest request, CancellationToken cancellationToken);
}

/// <summary>What PrequelBot reads of a <c>DBCluster</c> element.</summary>
public sealed record RdsDbCluster
{
    public required string Identifier { get; init; }
    public string Engine { get; init; } = "";
    public string? EngineVersion { get; init; }
    public string? Status { get; init; }
    public string? Endpoint { get; init; }
    public string? ReaderEndpoint { get; init; }
    public int? Port { get; init; }
    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];
    /// <summary>Only the name: a cluster's <c>DBSubnetGroup</c> is a string (DescribeDBSubnetGroups for its subnets).</summary>
    public string? SubnetGroupName { get; init; }
    public int? BackupRetentionPeriod { get; init; }
    public IReadOnlyList<RdsDbClusterMember> Members { get; init; } = [];

    /// <summary>The writer instance's id, or null while the cluster has none.</summary>
    public string? WriterIdentifier => Members.FirstOrDefault(m => m.IsWriter)?.InstanceIdentifier;

    /// <summary>The reader instances' ids, in AWS's order.</summary>
    public IReadOnlyList<string> ReaderIdentifiers => [.. Members.Where(m => !m.IsWriter).Select(m => m.InstanceIdentifier)];
}

/// <summary>One <c>DBClusterMember</c>: an instance and whether it is the writer.</summary>
public sealed record RdsDbClusterMember(string InstanceIdentifier, bool IsWriter);

/// <summary>Parameters of CreateDBInstance for an Aurora reader, as PrequelBot sends them.</summary>
public sealed record CreateClusterInstanceRequest
{
    public required string InstanceIdentifier { get; init; }
    public required string ClusterIdentifier { get; init; }
    public required string InstanceClass { get; init; }
    public string Engine { get; init; } = "aurora-postgresql";
    public bool PubliclyAccessible { get; init; } = true;
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; init; } = [];
}

/// <summary>What PrequelBot reads of a <c>DBInstance</c> element.</summary>
public sealed record RdsDbInstance
{
    public required string Identifier { get; init; }
    public string Engine { get; init; } = "";
    public string? EngineVersion { get; init; }
    public string? InstanceClass { get; init; }
    public string? Status { get; init; }
    public string? EndpointAddress { get; init; }
    public int? EndpointPort { get; init; }
    public string? VpcId { get; init; }
    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];
    public string? SubnetGroupName { get; init; }
    public IReadOnlyList<string> SubnetIds { get; init; } = [];
    /// <summary>False when AWS omits the element (moto does unless it was set at creation).</summary>
    public bool PubliclyAccessible { get; init; }
    public string? AvailabilityZone { get; init; }
    public string? DatabaseName { get; init; }
    /// <summary>The source's identifier (or ARN, for a cross-region replica) when this instance is a read replica.</summary>
    public string? ReadReplicaSourceIdentifier { get; init; }
    public int? BackupRetentionPeriod { get; init; }
    public string? ClusterIdentifier { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>True when this instance replicates <paramref name="sourceIdentifier"/> (by id or ARN).</summary>
    public bool IsReplicaOf(string sourceIdentifier) =>
        ReadReplicaSourceIdentifier is { Length: > 0 } source &&
        (string.Equals(source, sourceIdentifier, StringComparison.OrdinalIgnoreCase) ||
         source.EndsWith(":db:" + sourceIdentifier, StringComparison.OrdinalIgnoreCase));
}

/// <summary>What PrequelBot reads of a <c>DBSnapshot</c> element: its id, the instance it was taken of, <c>Status</c> (<c>creating</c>, <c>available</c>, …) and <c>SnapshotType</c>.</summary>
public sealed record RdsDbSnapshot(string Identifier, string? InstanceIdentifier, string? Status, string? SnapshotType);

/// <summary>What PrequelBot reads of a <c>DBSubnetGroup</c> element.</summary>
public sealed record RdsDbSubnetGroup(string Name, string? VpcId, IReadOnlyList<string> SubnetIds);

/// <summary>Parameters of CreateDBInstanceReadReplica as PrequelBot sends them.</summary>
public sealed record CreateReadReplicaRequest
{
    public required string ReplicaIdentifier { get; init; }
    public required string SourceIdentifier { get; init; }
    public string? InstanceClass { get; init; }
    public bool PubliclyAccessible { get; init; } = true;
    /// <summary>Sent explicitly (the source's groups), so the replica's groups do not depend on RDS's inheritance rules.</summary>
    public IReadOnlyList<string> VpcSecurityGroupIds { get; init; } = [];
    /// <summary><c>--replica-subnet-group</c>; null = RDS places the replica in the source's subnet group.</summary>
    public string? SubnetGroupName { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Tags { get; init; } = [];
}
