using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps.Disconnect;

/// <summary>
/// <c>delete-replica</c> (disconnect): deletes the read replica (Aurora: the reader) the change record says this bot
/// created, and only while AWS still shows it tagged <c>managed-by=prequelbot</c>. No final snapshot: a replica holds only
/// its source's data. With <c>--keep-replica</c> nothing changes and the card says the replica is still publicly
/// accessible. Waits until AWS no longer lists the instance. Idempotent (docs/workflow.md, "Disconnect").
/// </summary>
public sealed class DeleteReplicaStepHandler(AwsClients aws, ILogger<DeleteReplicaStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.DeleteReplica;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Facts.Changes.ReplicaId is not { } replica)
        {
            return StepPlan.AlreadyInPlace(context.Request.Replica || context.Request.ReaderId is not null
                ? $"PrequelBot did not create {context.Request.TargetInstanceIdentifier}; left as it is"
                : "PrequelBot created no replica for this database");
        }
        var live = await DescribeAsync(replica, cancellationToken).ConfigureAwait(false);
        if (live is null) return StepPlan.AlreadyInPlace($"{replica} is already gone");
        if (context.Request.KeepReplica)
        {
            return StepPlan.AlreadyInPlace($"kept {replica} (--keep-replica); it is still publicly accessible{(live.PubliclyAccessible ? "" : " as configured")} and billed");
        }
        if (!IsOurs(live))
        {
            return StepPlan.AlreadyInPlace($"{replica} is no longer tagged {AwsStepSupport.ManagedByTag}={AwsStepSupport.ManagedByValue}; left alone");
        }
        if (live.Status == "deleting") return StepPlan.Change($"wait until {replica} is deleted");
        return StepPlan.Change($"delete {(live.ClusterIdentifier is null ? "read replica" : "Aurora reader")} {replica} (DeleteDBInstance, no final snapshot: PrequelBot created it from {live.ReadReplicaSourceIdentifier ?? live.ClusterIdentifier ?? context.Request.InstanceIdentifier})",
            note: $"{context.Request.InstanceIdentifier} itself is not changed.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var replica = context.Facts.Changes.ReplicaId ?? throw new StepFailedException("no replica is recorded");
        var live = await DescribeAsync(replica, cancellationToken).ConfigureAwait(false);
        if (live is null) return StepResult.Done($"{replica} is deleted");
        if (!IsOurs(live)) throw new StepFailedException($"{replica} is no longer tagged {AwsStepSupport.ManagedByTag}={AwsStepSupport.ManagedByValue}; PrequelBot leaves it alone");
        if (live.Status != "deleting")
        {
            context.EnsureApproved(await PlanAsync(context, cancellationToken).ConfigureAwait(false));
            var status = live.Status;
            try
            {
                live = await aws.Rds.DeleteDBInstanceAsync(replica, cancellationToken).ConfigureAwait(false);
                DisconnectLog.InstanceDeleting(logger, replica, context.OnboardingId);
            }
            catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.InvalidDBInstanceState)
            {
                return StepResult.Wait($"{replica} is busy ({status}); will delete it when it is available", TimeSpan.FromSeconds(30));
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "DeleteDBInstance", logger);
            }
            if (live is null || await DescribeAsync(replica, cancellationToken).ConfigureAwait(false) is null) return StepResult.Done($"{replica} is deleted");
        }
        return StepResult.Wait($"{replica} is being deleted", TimeSpan.FromSeconds(30), TimeSpan.FromHours(2));
    }

    private static bool IsOurs(RdsDbInstance instance) =>
        instance.Tags.TryGetValue(AwsStepSupport.ManagedByTag, out var value) && value == AwsStepSupport.ManagedByValue;

    private async Task<RdsDbInstance?> DescribeAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await aws.Rds.DescribeDBInstanceAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBInstances", logger);
        }
    }
}
