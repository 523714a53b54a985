using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>discover</c>: reads the source instance (and an existing replica, and the <c>--replica-subnet-group</c>) into
/// <see cref="OnboardingFacts"/>, with where each subnet routes <c>0.0.0.0/0</c> (DescribeRouteTables). Read-only,
/// so it also runs for <c>plan</c> previews and needs no approval.
/// </summary>
public sealed class DiscoverStepHandler(AwsClients aws, IPrequelEgress prequel, ILogger<DiscoverStepHandler> logger) : IStepHandler
{
    public static readonly IReadOnlySet<string> SupportedEngines = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "postgres", "aurora-postgresql" };

    public string StepName => StepNames.Discover;

    public Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(StepPlan.Change(context.Request.ClusterIdentifier is { } cluster
            ? $"Read Aurora cluster {cluster}"
            : $"Read DB instance {context.Request.InstanceIdentifier}"));
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        prequel.StaticIps();
        if (request.Replica && (request.ReplicaId is null || !PrequelBot.Commands.Identifiers.IsRdsInstanceIdentifier(request.ReplicaId)))
        {
            throw new StepFailedException($"\"{request.ReplicaId}\" is not a valid RDS instance identifier (1-63 letters, digits or hyphens, starting with a letter); choose one with --replica-id");
        }
        try
        {
            var rds = aws.Rds;
            if (request.ClusterIdentifier is { } clusterId)
            {
                return await DiscoverAuroraAsync(context, clusterId, null, cancellationToken).ConfigureAwait(false);
            }
            var instance = await rds.DescribeDBInstanceAsync(request.InstanceIdentifier, cancellationToken).ConfigureAwait(false)
                ?? throw new StepFailedException($"No RDS instance named {request.InstanceIdentifier} in {aws.Region}");
            if (!SupportedEngines.Contains(instance.Engine))
            {
                throw new StepFailedException($"{instance.Identifier} runs {instance.Engine}; PrequelBot connects PostgreSQL only");
            }
            if (instance.ClusterIdentifier is { } memberOf)
            {
                return await DiscoverAuroraAsync(context, memberOf, instance, cancellationToken).ConfigureAwait(false);
            }
            if (request.ReaderId is not null)
            {
                throw new StepFailedException($"--reader applies to Aurora clusters only, and {instance.Identifier} is not a cluster member; leave it out (or use --replica)");
            }
            var source = AwsStepSupport.ToFacts(instance, await SubnetIdsAsync(rds, instance, cancellationToken).ConfigureAwait(false));
            DatabaseFacts? target = source;
            SubnetGroupFacts? placement = null;
            if (request.Replica && request.ReplicaId is { } replicaId)
            {
                target = null;
                var replica = await rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false);
                if (replica is not null)
                {
                    var replicaFacts = AwsStepSupport.ToFacts(replica, await SubnetIdsAsync(rds, replica, cancellationToken).ConfigureAwait(false), source.Port);
                    target = replicaFacts with { SubnetRoutes = await AwsStepSupport.RoutesAsync(aws, replicaFacts.VpcId, replicaFacts.SubnetIds, cancellationToken).ConfigureAwait(false) };
                }
                else if (instance.BackupRetentionPeriod == 0)
                {
                    throw new StepFailedException($"{instance.Identifier} has automated backups off (BackupRetentionPeriod 0); RDS needs them on to create a read replica");
                }
                if (request.ReplicaSubnetGroup is { } groupName)
                {
                    placement = await AwsStepSupport.ReplicaSubnetGroupAsync(aws, groupName, source, cancellationToken).ConfigureAwait(false);
                }
            }
            source = source with { SubnetRoutes = await AwsStepSupport.RoutesAsync(aws, source.VpcId, source.SubnetIds, cancellationToken).ConfigureAwait(false) };
            context.Facts.Source = source;
            context.Facts.Target = target is not null && target.InstanceIdentifier == source.InstanceIdentifier ? source : target;
            context.Facts.ReplicaSubnetGroup = placement;
            AwsLog.Discovered(logger, instance.Identifier, instance.Engine, instance.Status, instance.VpcId, context.OnboardingId);
            var routes = source.SubnetRoutes.Count == 0 ? "" : $"; 0.0.0.0/0: {InternetRoutes.Describe(source.SubnetRoutes)}";
            var replicaPlacement = placement is null ? "" : $"; replica subnet group {placement.Name}: {InternetRoutes.Describe(placement.SubnetRoutes)}";
            return StepResult.Done($"{instance.Identifier}: {instance.Engine} {instance.EngineVersion}, {instance.InstanceClass}, {instance.Status}, port {source.Port}, {(instance.PubliclyAccessible ? "public" : "private")}{routes}{replicaPlacement}");
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, e is Amazon.EC2.AmazonEC2Exception ? "DescribeRouteTables" : "DescribeDBInstances", logger);
        }
    }

    private async Task<StepResult> DiscoverAuroraAsync(StepContext context, string clusterId, RdsDbInstance? named, CancellationToken cancellationToken)
    {
        var (cluster, writer, target) = await AuroraDiscovery.DiscoverAsync(aws, context.Request, clusterId, named, cancellationToken).ConfigureAwait(false);
        context.Facts.Cluster = cluster;
        context.Facts.Source = writer;
        context.Facts.Target = target;
        context.Facts.ReplicaSubnetGroup = null;
        AwsLog.Discovered(logger, cluster.Identifier, AuroraDiscovery.Engine, writer.Status, writer.VpcId, context.OnboardingId);
        var routes = (target ?? writer).SubnetRoutes is { Count: > 0 } r ? $"; 0.0.0.0/0: {InternetRoutes.Describe(r)}" : "";
        return StepResult.Done(AuroraDiscovery.Describe(cluster, writer, target, context.Request) + routes);
    }

    /// <summary>The subnets DescribeDBInstances embeds; DescribeDBSubnetGroups when it did not list them.</summary>
    internal static async Task<IReadOnlyList<string>> SubnetIdsAsync(IRdsClient rds, RdsDbInstance instance, CancellationToken cancellationToken)
    {
        if (instance.SubnetIds.Count > 0 || instance.SubnetGroupName is null)
        {
            return instance.SubnetIds;
        }
        var group = await rds.DescribeDBSubnetGroupAsync(instance.SubnetGroupName, cancellationToken).ConfigureAwait(false);
        return group?.SubnetIds ?? [];
    }

    /// <summary>
    /// The instance with its VPC, DB subnet group and subnets filled in. AWS embeds the subnet group in DescribeDBInstances,
    /// Aurora members included; moto 5.2.1 omits it for Aurora members, so for those it is read from the cluster's group.
    /// </summary>
    internal static async Task<RdsDbInstance> WithNetworkAsync(IRdsClient rds, RdsDbInstance instance, CancellationToken cancellationToken)
    {
        if ((instance.SubnetIds.Count > 0 && instance.VpcId is not null) || (instance.SubnetGroupName is null && instance.ClusterIdentifier is null))
        {
            return instance.SubnetIds.Count > 0 ? instance : instance with { SubnetIds = await SubnetIdsAsync(rds, instance, cancellationToken).ConfigureAwait(false) };
        }
        var groupName = instance.SubnetGroupName;
        if (groupName is null && instance.ClusterIdentifier is { } clusterId)
        {
            groupName = (await rds.DescribeDBClusterAsync(clusterId, cancellationToken).ConfigureAwait(false))?.SubnetGroupName;
        }
        var group = groupName is null ? null : await rds.DescribeDBSubnetGroupAsync(groupName, cancellationToken).ConfigureAwait(false);
        return group is null ? instance : instance with
        {
            VpcId = instance.VpcId ?? group.VpcId,
            SubnetGroupName = groupName,
            SubnetIds = instance.SubnetIds.Count > 0 ? instance.SubnetIds : group.SubnetIds,
        };
    }
}
