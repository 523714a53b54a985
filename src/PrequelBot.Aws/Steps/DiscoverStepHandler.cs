using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>discover</c>: reads the source instance (and an existing replica) into <see cref="OnboardingFacts"/>. Read-only,
/// so it also runs for <c>plan</c> previews and needs no approval.
/// </summary>
public sealed class DiscoverStepHandler(AwsClients aws, IOptions<PrequelOptions> prequel, ILogger<DiscoverStepHandler> logger) : IStepHandler
{
    public static readonly IReadOnlySet<string> SupportedEngines = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "postgres", "aurora-postgresql" };

    public string StepName => StepNames.Discover;

    public Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Task.FromResult(StepPlan.Change($"Read DB instance {context.Request.InstanceIdentifier}"));
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        AwsStepSupport.StaticIps(prequel.Value);
        if (request.Replica && (request.ReplicaId is null || !AwsStepSupport.IsValidInstanceIdentifier(request.ReplicaId)))
        {
            throw new StepFailedException($"\"{request.ReplicaId}\" is not a valid RDS instance identifier (1-63 letters, digits or hyphens, starting with a letter); choose one with --replica-id");
        }
        try
        {
            var rds = aws.Rds;
            var instance = await rds.DescribeDBInstanceAsync(request.InstanceIdentifier, cancellationToken).ConfigureAwait(false)
                ?? throw new StepFailedException($"No RDS instance named {request.InstanceIdentifier} in {aws.Region}");
            if (!SupportedEngines.Contains(instance.Engine))
            {
                throw new StepFailedException($"{instance.Identifier} runs {instance.Engine}; PrequelBot connects PostgreSQL only");
            }
            if (request.Replica && instance.ClusterIdentifier is not null)
            {
                throw new StepFailedException($"{instance.Identifier} is a member of Aurora cluster {instance.ClusterIdentifier}; --replica is not supported for Aurora yet (add a public reader to the cluster and connect that instance instead)");
            }
            var source = AwsStepSupport.ToFacts(instance, await SubnetIdsAsync(rds, instance, cancellationToken).ConfigureAwait(false));
            context.Facts.Source = source;
            context.Facts.Target = source;
            if (request.Replica && request.ReplicaId is { } replicaId)
            {
                context.Facts.Target = null;
                var replica = await rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false);
                if (replica is not null)
                {
                    context.Facts.Target = AwsStepSupport.ToFacts(replica, await SubnetIdsAsync(rds, replica, cancellationToken).ConfigureAwait(false), source.Port);
                }
                else if (instance.BackupRetentionPeriod == 0)
                {
                    throw new StepFailedException($"{instance.Identifier} has automated backups off (BackupRetentionPeriod 0); RDS needs them on to create a read replica");
                }
            }
            AwsLog.Discovered(logger, instance.Identifier, instance.Engine, instance.Status, instance.VpcId, context.OnboardingId);
            return StepResult.Done($"{instance.Identifier}: {instance.Engine} {instance.EngineVersion}, {instance.InstanceClass}, {instance.Status}, port {source.Port}, {(instance.PubliclyAccessible ? "public" : "private")}");
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBInstances");
        }
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
}
