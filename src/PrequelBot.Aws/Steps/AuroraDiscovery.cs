using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>discover</c> for Aurora PostgreSQL (docs/aws.md, Aurora): an alias with <c>ClusterIdentifier</c>, or an instance that
/// is a cluster member. Reads the cluster (DescribeDBClusters: members and roles, endpoints, VPC security groups, subnet
/// group, port), the writer (the source: the read-only user is created there) and the target: the reader
/// <c>--replica</c> adds, the existing reader <c>--reader</c> names, or else the writer. Prequel is always given the
/// target's instance endpoint, never the cluster's <c>ReaderEndpoint</c>. Read-only.
/// </summary>
internal static class AuroraDiscovery
{
    public const string Engine = "aurora-postgresql";

    /// <summary>The cluster, the writer's facts and the target's (null while the <c>--replica</c> reader does not exist yet).</summary>
    public static async Task<(ClusterFacts Cluster, DatabaseFacts Writer, DatabaseFacts? Target)> DiscoverAsync(
        AwsClients aws, OnboardingRequest request, string clusterIdentifier, RdsDbInstance? named, CancellationToken cancellationToken)
    {
        var rds = aws.Rds;
        var cluster = await rds.DescribeDBClusterAsync(clusterIdentifier, cancellationToken).ConfigureAwait(false)
            ?? throw new StepFailedException($"No Aurora cluster named {clusterIdentifier} in {aws.Region}");
        if (!string.Equals(cluster.Engine, Engine, StringComparison.OrdinalIgnoreCase))
        {
            throw new StepFailedException($"Aurora cluster {cluster.Identifier} runs {cluster.Engine}; PrequelBot connects PostgreSQL only");
        }
        if (request.ReplicaSubnetGroup is not null)
        {
            throw new StepFailedException($"--replica-subnet-group does not apply to Aurora: a new reader is placed in cluster {cluster.Identifier}'s DB subnet group ({cluster.SubnetGroupName ?? "none"}); leave it out");
        }
        var writerId = cluster.WriterIdentifier
            ?? throw new StepFailedException($"Aurora cluster {cluster.Identifier} has no writer instance; add one, then retry");
        var subnetGroup = cluster.SubnetGroupName is { } name ? await rds.DescribeDBSubnetGroupAsync(name, cancellationToken).ConfigureAwait(false) : null;
        var writerInstance = named is not null && string.Equals(named.Identifier, writerId, StringComparison.OrdinalIgnoreCase)
            ? named
            : await rds.DescribeDBInstanceAsync(writerId, cancellationToken).ConfigureAwait(false)
              ?? throw new StepFailedException($"Aurora cluster {cluster.Identifier} lists writer {writerId}, but RDS does not describe it; retry later");
        var facts = ToFacts(cluster);
        var writer = await MemberFactsAsync(aws, writerInstance, cluster, subnetGroup, cancellationToken).ConfigureAwait(false);

        DatabaseFacts? target = writer;
        if (request.ReaderId is { } readerId)
        {
            if (string.Equals(readerId, writerId, StringComparison.OrdinalIgnoreCase) || !cluster.ReaderIdentifiers.Contains(readerId, StringComparer.OrdinalIgnoreCase))
            {
                throw new StepFailedException($"{readerId} is not a reader of Aurora cluster {cluster.Identifier} (writer {writerId}; readers: {Readers(cluster)}); name one of its readers with --reader, or use --replica to add one");
            }
            var reader = await rds.DescribeDBInstanceAsync(readerId, cancellationToken).ConfigureAwait(false)
                ?? throw new StepFailedException($"Aurora cluster {cluster.Identifier} lists reader {readerId}, but RDS does not describe it; retry later");
            target = await MemberFactsAsync(aws, reader, cluster, subnetGroup, cancellationToken).ConfigureAwait(false);
        }
        else if (request.Replica && request.ReplicaId is { } newReaderId)
        {
            var existing = await rds.DescribeDBInstanceAsync(newReaderId, cancellationToken).ConfigureAwait(false);
            target = null;
            if (existing is not null)
            {
                EnsureOurReader(existing, cluster);
                target = await MemberFactsAsync(aws, existing, cluster, subnetGroup, cancellationToken).ConfigureAwait(false);
            }
        }
        else if (request.Replica)
        {
            throw new StepFailedException("--replica needs a reader id; choose one with --replica-id");
        }
        return (facts, writer, target);
    }

    /// <summary>An instance with the new reader's id must be a reader of this cluster; otherwise the id is taken.</summary>
    public static void EnsureOurReader(RdsDbInstance existing, ClusterFacts cluster)
    {
        if (!string.Equals(existing.ClusterIdentifier, cluster.Identifier, StringComparison.OrdinalIgnoreCase) ||
            string.Equals(existing.Identifier, cluster.WriterInstanceIdentifier, StringComparison.OrdinalIgnoreCase))
        {
            throw new StepFailedException($"An RDS instance named {existing.Identifier} already exists and is not a reader of Aurora cluster {cluster.Identifier}; choose another id with --replica-id");
        }
    }

    private static void EnsureOurReader(RdsDbInstance existing, RdsDbCluster cluster) => EnsureOurReader(existing, ToFacts(cluster));

    public static ClusterFacts ToFacts(RdsDbCluster cluster) => new()
    {
        Identifier = cluster.Identifier,
        WriterInstanceIdentifier = cluster.WriterIdentifier,
        ReaderInstanceIdentifiers = cluster.ReaderIdentifiers,
        Endpoint = cluster.Endpoint,
        ReaderEndpoint = cluster.ReaderEndpoint,
        Port = cluster.Port ?? 5432,
        SecurityGroupIds = cluster.SecurityGroupIds,
        SubnetGroupName = cluster.SubnetGroupName,
    };

    /// <summary>
    /// A member instance's facts with the cluster's network: AWS embeds the cluster's DB subnet group in a member's
    /// DescribeDBInstances answer; moto 5.2.1 omits it, so the subnets come from the cluster's group when missing. The
    /// groups are the cluster's (members have no groups of their own).
    /// </summary>
    private static async Task<DatabaseFacts> MemberFactsAsync(AwsClients aws, RdsDbInstance instance, RdsDbCluster cluster, RdsDbSubnetGroup? subnetGroup, CancellationToken cancellationToken)
    {
        var subnetIds = instance.SubnetIds.Count > 0 ? instance.SubnetIds : subnetGroup?.SubnetIds ?? [];
        var vpcId = instance.VpcId ?? subnetGroup?.VpcId;
        var facts = AwsStepSupport.ToFacts(instance, subnetIds, cluster.Port) with
        {
            VpcId = vpcId,
            SubnetGroupName = instance.SubnetGroupName ?? cluster.SubnetGroupName,
            SecurityGroupIds = cluster.SecurityGroupIds.Count > 0 ? cluster.SecurityGroupIds : instance.SecurityGroupIds,
            ClusterIdentifier = cluster.Identifier,
        };
        return facts with { SubnetRoutes = await AwsStepSupport.RoutesAsync(aws, vpcId, subnetIds, cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>A reader's facts: its own id, state, endpoint, class and public flag; the cluster's network as read for the writer.</summary>
    public static DatabaseFacts ReaderFacts(DatabaseFacts writer, RdsDbInstance reader, ClusterFacts cluster) => writer with
    {
        InstanceIdentifier = reader.Identifier, Status = reader.Status, EndpointAddress = reader.EndpointAddress,
        Port = reader.EndpointPort ?? cluster.Port, InstanceClass = reader.InstanceClass ?? writer.InstanceClass,
        PubliclyAccessible = reader.PubliclyAccessible, AvailabilityZone = reader.AvailabilityZone, EngineVersion = reader.EngineVersion ?? writer.EngineVersion,
    };

    /// <summary>
    /// What discover and <c>plan</c> show: the cluster, its writer and readers, and which instance Prequel will use (with
    /// the warning when that is the writer).
    /// </summary>
    public static string Describe(ClusterFacts cluster, DatabaseFacts writer, DatabaseFacts? target, OnboardingRequest request)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(request);
        var readers = cluster.ReaderInstanceIdentifiers.Count == 0 ? "no readers" : "readers " + string.Join(", ", cluster.ReaderInstanceIdentifiers);
        string uses;
        if (request.Replica)
        {
            uses = target is null
                ? $"Prequel will use a new public reader {request.ReplicaId} (its instance endpoint)"
                : $"Prequel will use reader {target.InstanceIdentifier}, which this bot added ({target.Status}{(target.EndpointAddress is { } a ? ", " + a : "")})";
        }
        else if (request.ReaderId is not null && target is not null)
        {
            uses = $"Prequel will use reader {target.InstanceIdentifier} ({(target.PubliclyAccessible ? "public" : "private")}, {target.EndpointAddress ?? "no endpoint yet"})";
        }
        else
        {
            uses = $"Prequel will use the writer {writer.InstanceIdentifier}: Prequel's load will land on the writer (add --replica for a reader of its own, or --reader <instance-id>)";
        }
        return $"Aurora cluster {cluster.Identifier}: writer {writer.InstanceIdentifier} ({writer.InstanceClass}, {(writer.PubliclyAccessible ? "public" : "private")}), {readers}; " +
               $"{uses}. Cluster endpoints {cluster.Endpoint ?? "?"} and {cluster.ReaderEndpoint ?? "?"} are not given to Prequel; port {cluster.Port}, " +
               $"security groups {string.Join(", ", cluster.SecurityGroupIds)} (set on the cluster), DB subnet group {cluster.SubnetGroupName ?? "(none)"}";
    }

    private static string Readers(RdsDbCluster cluster) => cluster.ReaderIdentifiers.Count == 0 ? "none" : string.Join(", ", cluster.ReaderIdentifiers);
}
