using PrequelBot.Aws.Rds;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>Answers DescribeDBInstances from a script, one entry per call; other calls are not expected.</summary>
public sealed class ScriptedRds(params RdsDbInstance?[] answers) : IRdsClient
{
    private int _calls;
    public int Calls => _calls;

    public Task<RdsDbInstance?> DescribeDBInstanceAsync(string instanceIdentifier, CancellationToken cancellationToken) =>
        Task.FromResult(answers[Math.Min(Interlocked.Increment(ref _calls) - 1, answers.Length - 1)]);

    public Task<RdsDbInstance> CreateDBInstanceReadReplicaAsync(CreateReadReplicaRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbInstance> MakePubliclyAccessibleAsync(string instanceIdentifier, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbInstance> SetPubliclyAccessibleAsync(string instanceIdentifier, bool publiclyAccessible, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbInstance?> DeleteDBInstanceAsync(string instanceIdentifier, string? finalSnapshotIdentifier, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbSnapshot> CreateDBSnapshotAsync(string snapshotIdentifier, string instanceIdentifier, IReadOnlyList<KeyValuePair<string, string>> tags, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbSnapshot?> DescribeDBSnapshotAsync(string snapshotIdentifier, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbInstance> SetVpcSecurityGroupsAsync(string instanceIdentifier, IReadOnlyList<string> securityGroupIds, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbSubnetGroup?> DescribeDBSubnetGroupAsync(string subnetGroupName, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbCluster?> DescribeDBClusterAsync(string clusterIdentifier, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbCluster> SetClusterVpcSecurityGroupsAsync(string clusterIdentifier, IReadOnlyList<string> securityGroupIds, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<RdsDbInstance> CreateClusterInstanceAsync(CreateClusterInstanceRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();
}

