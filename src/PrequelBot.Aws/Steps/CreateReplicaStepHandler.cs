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
        if (context.Facts.Cluster is { } cluster)
        {
            return await PlanReaderAsync(context, cluster, replicaId, source, cancellationToken).ConfigureAwait(false);
        }
        try
        {
            var existing = await aws.Rds.DescribeDBInstanceAsync(replicaId, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                EnsureReplicaOf(existing, source.InstanceIdentifier);
                RecordIfResumed(context, replicaId);
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
        // The plan from live state, just before any change: it must be the approved one (docs/workflow.md).
        context.EnsureApproved(await PlanAsync(context, cancellationToken).ConfigureAwait(false));
        var (replicaId, source) = Names(context);
        if (context.Facts.Cluster is { } cluster)
        {
            return await ApplyReaderAsync(context, cluster, replicaId, source, cancellationToken).ConfigureAwait(false);
        }
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
            // Apply runs only when the live plan found no instance of that id: this run (or the one it resumes) created it.
            context.Facts.Changes.ReplicaId = replicaId;
            context.Facts.Target = AwsStepSupport.ToFacts(existing, existing.SubnetIds.Count > 0 ? existing.SubnetIds : context.Facts.ReplicaSubnetGroup?.SubnetIds ?? source.SubnetIds, source.Port);
            return StepResult.Done($"read replica {replicaId} of {source.InstanceIdentifier}: {existing.Status}");
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "CreateDBInstanceReadReplica", logger);
        }
    }

    /// <summary>
    /// Aurora has no read replica call: a reader is added with CreateDBInstance + <c>DBClusterIdentifier</c>, engine
    /// aurora-postgresql, publicly accessible, the writer's class unless <c>--replica-class</c>. Its groups and subnet group
    /// are the cluster's (docs/aws.md, Aurora), so the cluster's subnets must reach an internet gateway.
    /// </summary>
    private async Task<StepPlan> PlanReaderAsync(StepContext context, ClusterFacts cluster, string readerId, DatabaseFacts writer, CancellationToken cancellationToken)
    {
        var existing = await DescribeReaderAsync(readerId, cluster, cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            RecordIfResumed(context, readerId);
            return StepPlan.AlreadyInPlace($"{readerId} is already a reader of Aurora cluster {cluster.Identifier} ({existing.Status})");
        }
        EnsureReachable(readerId, cluster, writer);
        var warning = InternetRoutes.PartialWarning(writer.SubnetRoutes);
        return StepPlan.Change(
            $"add reader {readerId} to Aurora cluster {cluster.Identifier} (CreateDBInstance, {AuroraDiscovery.Engine}, {context.Request.ReplicaClass ?? writer.InstanceClass}, publicly accessible, " +
            $"tagged {AwsStepSupport.ManagedByTag}={AwsStepSupport.ManagedByValue}; the cluster's DB subnet group {cluster.SubnetGroupName} and security groups {string.Join(", ", cluster.SecurityGroupIds)})",
            note: $"0.0.0.0/0 in {cluster.SubnetGroupName}: {InternetRoutes.Describe(writer.SubnetRoutes)}.{(warning is null ? "" : " " + warning)} " +
                  $"Prequel will get {readerId}'s own instance endpoint, not the cluster's reader endpoint; the writer {writer.InstanceIdentifier} is not changed. The reader is billed like any Aurora instance.");
    }

    private async Task<StepResult> ApplyReaderAsync(StepContext context, ClusterFacts cluster, string readerId, DatabaseFacts writer, CancellationToken cancellationToken)
    {
        var rds = aws.Rds;
        var existing = await DescribeReaderAsync(readerId, cluster, cancellationToken).ConfigureAwait(false);
        try
        {
            if (existing is null)
            {
                EnsureReachable(readerId, cluster, writer);
                var instanceClass = context.Request.ReplicaClass ?? writer.InstanceClass
                    ?? throw new StepFailedException($"the writer {writer.InstanceIdentifier} reports no instance class; choose one with --replica-class");
                try
                {
                    existing = await rds.CreateClusterInstanceAsync(new CreateClusterInstanceRequest
                    {
                        InstanceIdentifier = readerId,
                        ClusterIdentifier = cluster.Identifier,
                        InstanceClass = instanceClass,
                        PubliclyAccessible = true,
                        Tags = [new(AwsStepSupport.ManagedByTag, AwsStepSupport.ManagedByValue), new(AwsStepSupport.OnboardingTag, context.OnboardingId)],
                    }, cancellationToken).ConfigureAwait(false);
                    AwsLog.ReplicaCreated(logger, readerId, cluster.Identifier, context.OnboardingId);
                }
                catch (RdsServiceException e) when (e.ErrorCode is RdsErrorCodes.InvalidDBClusterState or RdsErrorCodes.InvalidDBInstanceState)
                {
                    return StepResult.Wait($"Aurora cluster {cluster.Identifier} is busy ({AwsErrorText.Sanitize(e.Message)}); will try again", backoff.Delay(context.Attempt));
                }
                catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.DBInstanceAlreadyExists)
                {
                    existing = await DescribeReaderAsync(readerId, cluster, cancellationToken).ConfigureAwait(false)
                        ?? throw new StepFailedException($"RDS says {readerId} already exists but does not describe it; retry later");
                }
            }
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "CreateDBInstance", logger);
        }
        context.Facts.Changes.ReplicaId = readerId;
        context.Facts.Target = AuroraDiscovery.ReaderFacts(writer, existing, cluster);
        return StepResult.Done($"reader {readerId} in Aurora cluster {cluster.Identifier}: {existing.Status}");
    }

    /// <summary>The reader with that id, or null; an instance with that id that is not a reader of the cluster fails the step.</summary>
    private async Task<RdsDbInstance?> DescribeReaderAsync(string readerId, ClusterFacts cluster, CancellationToken cancellationToken)
    {
        try
        {
            var existing = await aws.Rds.DescribeDBInstanceAsync(readerId, cancellationToken).ConfigureAwait(false);
            if (existing is not null)
            {
                AuroraDiscovery.EnsureOurReader(existing, cluster);
            }
            return existing;
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBInstances", logger);
        }
    }

    private static void EnsureReachable(string readerId, ClusterFacts cluster, DatabaseFacts writer)
    {
        if (InternetRoutes.Problem(readerId, cluster.SubnetGroupName, writer.VpcId, writer.SubnetRoutes, cluster.Identifier) is { } problem)
        {
            throw new StepFailedException(problem);
        }
    }

    /// <summary>
    /// A run of this approved step stopped after the create and before its save: the instance it made is in the change
    /// record (docs/workflow.md, "The change record"). A replica that existed before the onboarding is not.
    /// </summary>
    private static void RecordIfResumed(StepContext context, string replicaId)
    {
        if (context.ResumedPlan is not null && !context.IsPreview)
        {
            context.Facts.Changes.ReplicaId = replicaId;
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
