using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Planning;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>wait-replica</c>: one DescribeDBInstances per Apply. <c>available</c> → Done (Target updated); a failed state →
/// Failed; anything else → Wait with <see cref="RecheckBackoff"/>. Never sleeps.
/// </summary>
public sealed class WaitReplicaStepHandler(AwsClients aws, RecheckBackoff backoff, ILogger<WaitReplicaStepHandler> logger) : IStepHandler
{
    /// <summary>States from which an instance does not become available by itself.</summary>
    public static readonly IReadOnlySet<string> FailedStates = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "failed", "incompatible-parameters", "incompatible-network", "incompatible-restore", "incompatible-option-group",
        "incompatible-credentials", "inaccessible-encryption-credentials", "inaccessible-encryption-credentials-recoverable",
        "storage-full", "deleting", "deleted", "stopped", "stopping",
    };

    /// <summary>Missing replicas are tolerated for this many checks (RDS describes new instances eventually).</summary>
    public const int NotFoundTolerance = 3;

    public string StepName => StepNames.WaitReplica;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var replicaId = context.Request.ReplicaId ?? throw new StepFailedException("wait-replica runs only with --replica");
        if (context.Facts.Target is { } target && target.InstanceIdentifier == replicaId && target.Status == "available" && target.EndpointAddress is not null)
        {
            return StepPlan.AlreadyInPlace($"{replicaId} is available");
        }
        if (!context.IsPreview)
        {
            var current = await DescribeAsync(replicaId, cancellationToken).ConfigureAwait(false);
            if (current is { Status: "available", EndpointAddress: not null })
            {
                return StepPlan.AlreadyInPlace($"{replicaId} is available");
            }
        }
        return StepPlan.Change($"Wait until replica {replicaId} is available");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var replicaId = context.Request.ReplicaId ?? throw new StepFailedException("wait-replica runs only with --replica");
        var replica = await DescribeAsync(replicaId, cancellationToken).ConfigureAwait(false);
        if (replica is null)
        {
            return context.Attempt <= NotFoundTolerance
                ? StepResult.Wait($"replica {replicaId} is not visible yet", backoff.Delay(context.Attempt))
                : StepResult.Failed($"replica {replicaId} does not exist (was it deleted?); run retry to create it again");
        }
        var status = replica.Status ?? "unknown";
        if (string.Equals(status, "available", StringComparison.OrdinalIgnoreCase) && replica.EndpointAddress is not null)
        {
            var source = context.Facts.Source;
            context.Facts.Target = context.Facts.Cluster is { } cluster && source is not null
                // An Aurora reader has the cluster's groups and subnet group, as discover read them for the writer.
                ? AuroraDiscovery.ReaderFacts(source, replica, cluster)
                : AwsStepSupport.ToFacts(replica, replica.SubnetIds.Count > 0 ? replica.SubnetIds : context.Facts.ReplicaSubnetGroup?.SubnetIds ?? source?.SubnetIds ?? [], source?.Port);
            return StepResult.Done($"replica {replicaId} is available at {replica.EndpointAddress}:{replica.EndpointPort}");
        }
        if (FailedStates.Contains(status))
        {
            return StepResult.Failed($"replica {replicaId} is {status}; it will not become available by itself");
        }
        if (context.Facts.Target is { } target && target.InstanceIdentifier == replicaId)
        {
            context.Facts.Target = target with { Status = status };
        }
        return StepResult.Wait($"replica {replicaId} is {status}", backoff.Delay(context.Attempt));
    }

    private async Task<Rds.RdsDbInstance?> DescribeAsync(string replicaId, CancellationToken cancellationToken)
    {
        try
        {
            return await aws.Rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBInstances", logger);
        }
    }
}
