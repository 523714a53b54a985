using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>create-replica</c> (only with <c>--replica</c>): CreateDBInstanceReadReplica, publicly accessible, with the source's
/// VPC security groups passed explicitly, in <c>--replica-subnet-group</c> when given, tagged <c>managed-by=prequelbot</c>.
/// Fails before any change when no subnet of the replica's subnet group routes 0.0.0.0/0 to an internet gateway. An existing replica of the source with that id is reused; an instance with that id
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
            throw AwsStepSupport.Translate(e, "DescribeDBInstances", logger);
        }
        var (groups, placement) = await LiveSetupAsync(context, source, cancellationToken).ConfigureAwait(false);
        var instanceClass = context.Request.ReplicaClass ?? source.InstanceClass;
        var warning = InternetRoutes.PartialWarning(placement.SubnetRoutes);
        return StepPlan.Change(
            $"create read replica {replicaId} of {source.InstanceIdentifier} ({instanceClass}, publicly accessible, DB subnet group {placement.Name}, " +
            $"security groups {string.Join(", ", groups)}, tagged {AwsStepSupport.ManagedByTag}={AwsStepSupport.ManagedByValue})",
            note: $"0.0.0.0/0 in {placement.Name}: {InternetRoutes.Describe(placement.SubnetRoutes)}.{(warning is null ? "" : " " + warning)} " +
                  $"The replica gets {source.InstanceIdentifier}'s security groups passed explicitly, then a dedicated group of its own; it is billed like any RDS instance.");
    }

    /// <summary>
    /// The source's groups now and where the replica goes (<c>--replica-subnet-group</c>, else the source's group), read
    /// live; fails before any change when no subnet there routes 0.0.0.0/0 to an internet gateway.
    /// </summary>
    private async Task<(IReadOnlyList<string> Groups, SubnetGroupFacts Placement)> LiveSetupAsync(StepContext context, DatabaseFacts source, CancellationToken cancellationToken)
    {
        SubnetGroupFacts placement;
        IReadOnlyList<string> groups;
        try
        {
            var live = await aws.Rds.DescribeDBInstanceAsync(source.InstanceIdentifier, cancellationToken).ConfigureAwait(false)
                ?? throw new StepFailedException($"No RDS instance named {source.InstanceIdentifier} in {aws.Region}");
            groups = live.SecurityGroupIds;
            placement = context.Request.ReplicaSubnetGroup is { } name
                ? await AwsStepSupport.ReplicaSubnetGroupAsync(aws, name, source, cancellationToken).ConfigureAwait(false)
                : new SubnetGroupFacts
                {
                    Name = source.SubnetGroupName ?? "(none)",
                    VpcId = source.VpcId,
                    SubnetIds = source.SubnetIds,
                    SubnetRoutes = await AwsStepSupport.RoutesAsync(aws, source.VpcId, source.SubnetIds, cancellationToken).ConfigureAwait(false),
                };
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, e is Amazon.EC2.AmazonEC2Exception ? "DescribeRouteTables" : "DescribeDBSubnetGroups", logger);
        }
        if (InternetRoutes.Problem(context.Request.ReplicaId ?? "the replica", placement.Name, placement.VpcId, placement.SubnetRoutes) is { } problem)
        {
            throw new StepFailedException(context.Request.ReplicaSubnetGroup is null
                ? problem.Replace("Use --replica with --replica-subnet-group", "Add --replica-subnet-group", StringComparison.Ordinal)
                : problem.Replace("Use --replica with --replica-subnet-group", "Choose another --replica-subnet-group", StringComparison.Ordinal));
        }
        return (groups, placement);
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
                var (groups, _) = await LiveSetupAsync(context, source, cancellationToken).ConfigureAwait(false);
                try
                {
                    existing = await rds.CreateDBInstanceReadReplicaAsync(new CreateReadReplicaRequest
                    {
                        ReplicaIdentifier = replicaId,
                        SourceIdentifier = source.InstanceIdentifier,
                        InstanceClass = context.Request.ReplicaClass ?? source.InstanceClass,
                        PubliclyAccessible = true,
                        VpcSecurityGroupIds = groups,
                        SubnetGroupName = context.Request.ReplicaSubnetGroup,
                        Tags = [new(AwsStepSupport.ManagedByTag, AwsStepSupport.ManagedByValue), new(AwsStepSupport.OnboardingTag, context.OnboardingId)],
                    }, cancellationToken).ConfigureAwait(false);
                    AwsLog.ReplicaCreated(logger, replicaId, source.InstanceIdentifier, context.OnboardingId);
                }
                catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.InvalidDBInstanceState)
                {
                    return StepResult.Wait($"{source.InstanceIdentifier} is busy ({AwsErrorText.Sanitize(e.Message)}); will try again", backoff.Delay(context.Attempt));
                }
                catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBInstanceAlreadyExists)
                {
                    existing = await rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false)
                        ?? throw new StepFailedException($"RDS says {replicaId} already exists but does not describe it; retry later");
                }
            }
            EnsureReplicaOf(existing, source.InstanceIdentifier);
            context.Facts.Target = AwsStepSupport.ToFacts(existing, existing.SubnetIds.Count > 0 ? existing.SubnetIds : context.Facts.ReplicaSubnetGroup?.SubnetIds ?? source.SubnetIds, source.Port);
            return StepResult.Done($"read replica {replicaId} of {source.InstanceIdentifier}: {existing.Status}");
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "CreateDBInstanceReadReplica", logger);
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
