using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps.Disconnect;

/// <summary>
/// <c>delete-replica</c> (disconnect): deletes the read replica (Aurora: the reader) the change record says this bot
/// created, and only while AWS still shows it tagged <c>managed-by=prequelbot</c>. By default no final snapshot: a replica
/// holds only its source's data. With <c>--final-snapshot</c> (<see cref="OnboardingRequest.FinalSnapshotId"/>), what AWS
/// allows (docs/aws.md, "Final snapshot"): for a read replica, a manual CreateDBSnapshot first, waited for until
/// <c>available</c>, then the delete (AWS refuses a final snapshot when it deletes a read replica); for an instance that is
/// no longer a replica (promoted), DeleteDBInstance's own final snapshot; for an Aurora reader none (AWS refuses one for a
/// cluster member; the data stays in the cluster), and the prompt says so. With <c>--keep-replica</c> nothing changes and
/// the card says the replica is still publicly accessible. Waits until AWS no longer lists the instance. Idempotent
/// (docs/workflow.md, "Disconnect").
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
        // A run that was stopped after its DeleteDBInstance (kill -9 before the save) continues the approved change.
        if (live.Status == "deleting") return context.ResumedPlan ?? StepPlan.Change($"wait until {replica} is deleted");
        var untouched = $"{context.Request.InstanceIdentifier} itself is not changed.";
        var snapshot = context.Request.FinalSnapshotId;
        return KindOf(live) switch
        {
            ReplicaKind.AuroraReader => StepPlan.Change(
                $"delete Aurora reader {replica} (DeleteDBInstance, no final snapshot: PrequelBot created it in cluster {live.ClusterIdentifier})",
                note: snapshot is null ? untouched
                    : $"--final-snapshot: AWS takes no snapshot of one instance of an Aurora cluster (DeleteDBInstance refuses a final snapshot for a cluster member); the reader has no storage of its own, the data stays in cluster {live.ClusterIdentifier}, which is not changed. {untouched}"),
            ReplicaKind.ReadReplica when snapshot is not null => StepPlan.Change(
                [
                    $"take manual DB snapshot {snapshot} of read replica {replica} (CreateDBSnapshot; AWS takes no final snapshot when it deletes a read replica) and wait until it is available",
                    $"then delete read replica {replica} (DeleteDBInstance, SkipFinalSnapshot: the snapshot keeps its data; PrequelBot created it from {live.ReadReplicaSourceIdentifier})",
                ],
                note: $"The snapshot is kept (and billed) until someone deletes it. {untouched}"),
            ReplicaKind.ReadReplica => StepPlan.Change(
                $"delete read replica {replica} (DeleteDBInstance, no final snapshot: PrequelBot created it from {live.ReadReplicaSourceIdentifier})",
                note: untouched),
            _ when snapshot is not null => StepPlan.Change(
                $"delete {replica} (DeleteDBInstance with final snapshot {snapshot}: PrequelBot created it as a replica of {context.Request.InstanceIdentifier}; it is no longer one)",
                note: $"The snapshot is kept (and billed) until someone deletes it. {untouched}"),
            _ => StepPlan.Change(
                $"delete {replica} (DeleteDBInstance, no final snapshot: PrequelBot created it as a replica of {context.Request.InstanceIdentifier}; it is no longer one, so data written to it since is lost; disconnect --final-snapshot keeps a snapshot)",
                note: untouched),
        };
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var replica = context.Facts.Changes.ReplicaId ?? throw new StepFailedException("no replica is recorded");
        var live = await DescribeAsync(replica, cancellationToken).ConfigureAwait(false);
        if (live is null) return await DeletedAsync(replica, context, cancellationToken).ConfigureAwait(false);
        if (!IsOurs(live)) throw new StepFailedException($"{replica} is no longer tagged {AwsStepSupport.ManagedByTag}={AwsStepSupport.ManagedByValue}; PrequelBot leaves it alone");
        if (live.Status != "deleting")
        {
            context.EnsureApproved(await PlanAsync(context, cancellationToken).ConfigureAwait(false));
            var kind = KindOf(live);
            var snapshot = context.Request.FinalSnapshotId;
            if (snapshot is not null && kind == ReplicaKind.ReadReplica
                && await EnsureSnapshotAsync(snapshot, live, context, cancellationToken).ConfigureAwait(false) is { } waiting)
            {
                return waiting;
            }
            var status = live.Status;
            try
            {
                live = await aws.Rds.DeleteDBInstanceAsync(replica, snapshot is not null && kind == ReplicaKind.Standalone ? snapshot : null, cancellationToken).ConfigureAwait(false);
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
            if (live is null || await DescribeAsync(replica, cancellationToken).ConfigureAwait(false) is null) return await DeletedAsync(replica, context, cancellationToken).ConfigureAwait(false);
        }
        return StepResult.Wait($"{replica} is being deleted", TimeSpan.FromSeconds(30), TimeSpan.FromHours(2));
    }

    /// <summary>
    /// The manual snapshot of a read replica before its delete: taken once (found again by its id after a crash), then
    /// waited for. Null when it is <c>available</c> and the delete may go ahead; otherwise the Wait to return.
    /// </summary>
    private async Task<StepResult?> EnsureSnapshotAsync(string snapshotId, RdsDbInstance replica, StepContext context, CancellationToken cancellationToken)
    {
        RdsDbSnapshot? snapshot;
        try
        {
            snapshot = await aws.Rds.DescribeDBSnapshotAsync(snapshotId, cancellationToken).ConfigureAwait(false);
            if (snapshot is null)
            {
                // AWS takes a DB snapshot only of an available instance (docs/aws.md, "Final snapshot").
                if (replica.Status != "available") return StepResult.Wait($"{replica.Identifier} is {replica.Status}; will take snapshot {snapshotId} when it is available", TimeSpan.FromSeconds(30));
                try
                {
                    snapshot = await aws.Rds.CreateDBSnapshotAsync(snapshotId, replica.Identifier,
                        [new(AwsStepSupport.ManagedByTag, AwsStepSupport.ManagedByValue), new(AwsStepSupport.OnboardingTag, context.OnboardingId)], cancellationToken).ConfigureAwait(false);
                    DisconnectLog.SnapshotStarted(logger, snapshotId, replica.Identifier, context.OnboardingId);
                }
                catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBSnapshotAlreadyExists)
                {
                    snapshot = await aws.Rds.DescribeDBSnapshotAsync(snapshotId, cancellationToken).ConfigureAwait(false);
                }
                catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.InvalidDBInstanceState)
                {
                    return StepResult.Wait($"{replica.Identifier} is busy; will take snapshot {snapshotId} when it is available", TimeSpan.FromSeconds(30));
                }
            }
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "CreateDBSnapshot", logger);
        }
        if (snapshot is null) return StepResult.Wait($"waiting for snapshot {snapshotId} of {replica.Identifier} to be listed", TimeSpan.FromSeconds(15), TimeSpan.FromHours(6));
        if (!string.Equals(snapshot.InstanceIdentifier, replica.Identifier, StringComparison.OrdinalIgnoreCase))
            throw new StepFailedException($"a DB snapshot named {snapshotId} already exists of {snapshot.InstanceIdentifier ?? "another instance"}; {replica.Identifier} is not deleted");
        return snapshot.Status switch
        {
            "available" => null,
            "failed" or "deleting" or "deleted" => throw new StepFailedException($"snapshot {snapshotId} of {replica.Identifier} is {snapshot.Status}; {replica.Identifier} is not deleted (retry takes it again once it is gone)"),
            _ => StepResult.Wait($"taking snapshot {snapshotId} of {replica.Identifier} ({snapshot.Status ?? "creating"}); will delete the replica when it is available", TimeSpan.FromSeconds(30), TimeSpan.FromHours(6)),
        };
    }

    /// <summary>Done, naming the snapshot <c>--final-snapshot</c> kept when AWS lists it.</summary>
    private async Task<StepResult> DeletedAsync(string replica, StepContext context, CancellationToken cancellationToken)
    {
        if (context.Request.FinalSnapshotId is not { } id) return StepResult.Done($"{replica} is deleted");
        RdsDbSnapshot? snapshot;
        try
        {
            snapshot = await aws.Rds.DescribeDBSnapshotAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBSnapshots", logger);
        }
        return StepResult.Done(snapshot is null ? $"{replica} is deleted; no snapshot was taken" : $"{replica} is deleted; snapshot {id} is kept ({snapshot.Status})");
    }

    private static ReplicaKind KindOf(RdsDbInstance instance) =>
        instance.ClusterIdentifier is not null ? ReplicaKind.AuroraReader
        : instance.ReadReplicaSourceIdentifier is { Length: > 0 } ? ReplicaKind.ReadReplica
        : ReplicaKind.Standalone;

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

    /// <summary>What AWS allows for a final snapshot depends on what the instance is now.</summary>
    private enum ReplicaKind { ReadReplica, AuroraReader, Standalone }
}
