using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>create-replica</c> (only with <c>--replica</c>): CreateDBInstanceReadReplica, publicly accessible, tagged
/// <c>managed-by=prequelbot</c>. An existing replica of the source with that id is reused; an instance with that id
/// that is not a replica of the source fails the step. Idempotent.
/// </summary>
public sealed class CreateReplicaStepHandler(AwsClients aws, RecheckBackoff backoff, ILogger<CreateReplicaStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.CreateReplica;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (replicaId, source) = Names(context);
        try
        {
            var existing = await aws.Rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                EnsureReplicaOf(existing, source.InstanceIdentifier);
                return StepPlan.AlreadyInPlace($"{replicaId} is already a read replica of {source.InstanceIdentifier} ({existing.Status})");
            }
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBInstances");
        }
        var instanceClass = context.Request.ReplicaClass ?? source.InstanceClass;
        return StepPlan.Change(
            $"create read replica {replicaId} of {source.InstanceIdentifier} ({instanceClass}, publicly accessible, tagged {AwsStepSupport.ManagedByTag}={AwsStepSupport.ManagedByValue})",
            note: $"The replica gets {source.InstanceIdentifier}'s security groups and subnet group ({source.SubnetGroupName}); it is billed like any RDS instance.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (replicaId, source) = Names(context);
        var rds = aws.Rds;
        try
        {
            var existing = await rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false);
            if (existing is null)
            {
                try
                {
                    existing = await rds.CreateDBInstanceReadReplicaAsync(new CreateReadReplicaRequest
                    {
                        ReplicaIdentifier = replicaId,
                        SourceIdentifier = source.InstanceIdentifier,
                        InstanceClass = context.Request.ReplicaClass ?? source.InstanceClass,
                        PubliclyAccessible = true,
                        Tags = [new(AwsStepSupport.ManagedByTag, AwsStepSupport.ManagedByValue), new(AwsStepSupport.OnboardingTag, context.OnboardingId)],
                    }, cancellationToken).ConfigureAwait(false);
                    AwsLog.ReplicaCreated(logger, replicaId, source.InstanceIdentifier, context.OnboardingId);
                }
                catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.InvalidDBInstanceState)
                {
                    return StepResult.Wait($"{source.InstanceIdentifier} is busy ({e.Message}); will try again", backoff.Delay(context.Attempt));
                }
                catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBInstanceAlreadyExists)
                {
                    existing = await rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false)
                        ?? throw new StepFailedException($"RDS says {replicaId} already exists but does not describe it; retry later");
                }
            }
            EnsureReplicaOf(existing, source.InstanceIdentifier);
            context.Facts.Target = AwsStepSupport.ToFacts(existing, existing.SubnetIds.Count > 0 ? existing.SubnetIds : source.SubnetIds, source.Port);
            return StepResult.Done($"read replica {replicaId} of {source.InstanceIdentifier}: {existing.Status}");
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "CreateDBInstanceReadReplica");
        }
    }

    private static (string ReplicaId, DatabaseFacts Source) Names(StepContext context)
    {
        var replicaId = context.Request.ReplicaId ?? throw new StepFailedException("create-replica runs only with --replica");
        var source = context.Facts.Source ?? throw new StepFailedException("discover has not run: no facts about the database yet");
        return (replicaId, source);
    }

    private static void EnsureReplicaOf(RdsDbInstance existing, string sourceIdentifier)
    {
        if (!existing.IsReplicaOf(sourceIdentifier))
        {
            throw new StepFailedException($"An RDS instance named {existing.Identifier} already exists and is not a read replica of {sourceIdentifier}; choose another id with --replica-id");
        }
    }
}
