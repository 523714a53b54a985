using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>public-access</c>: ModifyDBInstance PubliclyAccessible=true, ApplyImmediately=true on the target when it is not
/// public. Reads the real flag and the subnets' route tables first: when no subnet of the target's DB subnet group routes
/// <c>0.0.0.0/0</c> to an internet gateway it fails before any change, naming the subnets and their route targets, since
/// a public flag there makes nothing reachable (docs/aws.md). Idempotent.
/// </summary>
public sealed class PublicAccessStepHandler(AwsClients aws, RecheckBackoff backoff, ILogger<PublicAccessStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.PublicAccess;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (target, predicted) = AwsStepSupport.Target(context);
        if (predicted)
        {
            return StepPlan.AlreadyInPlace($"{target.InstanceIdentifier} is created publicly accessible");
        }
        var current = await DescribeAsync(target.InstanceIdentifier, cancellationToken).ConfigureAwait(false);
        var routes = await ReachableRoutesAsync(current, cancellationToken).ConfigureAwait(false);
        if (current.PubliclyAccessible)
        {
            if (!context.IsPreview && !target.PubliclyAccessible)
            {
                // discover saw it private and it is public now: an earlier run of this step changed it before its save
                // (or someone did by hand meanwhile); either way disconnect restores what discover saw.
                context.Facts.Changes.SetPublicFlagChanged(target.InstanceIdentifier, previous: false);
            }
            return StepPlan.AlreadyInPlace($"{target.InstanceIdentifier} is already publicly accessible; 0.0.0.0/0: {InternetRoutes.Describe(routes)}");
        }
        var warning = InternetRoutes.PartialWarning(routes);
        return StepPlan.Change(ChangeLine(target.InstanceIdentifier),
            note: $"Access stays limited by the security group and network ACL rules of the next steps. 0.0.0.0/0: {InternetRoutes.Describe(routes)}.{(warning is null ? "" : " " + warning)}");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (target, _) = AwsStepSupport.Target(context);
        var current = await DescribeAsync(target.InstanceIdentifier, cancellationToken).ConfigureAwait(false);
        var routes = await ReachableRoutesAsync(current, cancellationToken).ConfigureAwait(false);
        if (!current.PubliclyAccessible)
        {
            context.EnsureApproved(StepPlan.Change(ChangeLine(target.InstanceIdentifier)));
            try
            {
                current = await aws.Rds.MakePubliclyAccessibleAsync(target.InstanceIdentifier, cancellationToken).ConfigureAwait(false);
                context.Facts.Changes.SetPublicFlagChanged(target.InstanceIdentifier, previous: false);
                AwsLog.MadePublic(logger, target.InstanceIdentifier, context.OnboardingId);
            }
            catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.InvalidDBInstanceState)
            {
                return StepResult.Wait($"{target.InstanceIdentifier} is busy ({current.Status}); will try again", backoff.Delay(context.Attempt));
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "ModifyDBInstance", logger);
            }
        }
        context.Facts.Target = target with
        {
            PubliclyAccessible = true, Status = current.Status ?? target.Status, EndpointAddress = current.EndpointAddress ?? target.EndpointAddress, SubnetRoutes = routes,
        };
        return StepResult.Done($"{target.InstanceIdentifier} is publicly accessible");
    }

    /// <summary>The live default routes of the instance's subnets; a clear failure, before any change, when none reaches an internet gateway.</summary>
    private async Task<IReadOnlyList<SubnetRoute>> ReachableRoutesAsync(RdsDbInstance instance, CancellationToken cancellationToken)
    {
        IReadOnlyList<SubnetRoute> routes;
        try
        {
            instance = await DiscoverStepHandler.WithNetworkAsync(aws.Rds, instance, cancellationToken).ConfigureAwait(false);
            routes = await AwsStepSupport.RoutesAsync(aws, instance.VpcId, instance.SubnetIds, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeRouteTables", logger);
        }
        if (InternetRoutes.Problem(instance.Identifier, instance.SubnetGroupName, instance.VpcId, routes, instance.ClusterIdentifier) is { } problem)
        {
            throw new StepFailedException(problem);
        }
        return routes;
    }

    private static string ChangeLine(string instanceIdentifier) =>
        $"make {instanceIdentifier} publicly accessible (ModifyDBInstance PubliclyAccessible=true, applied immediately)";

    private async Task<RdsDbInstance> DescribeAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await aws.Rds.DescribeDBInstanceAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new StepFailedException($"No RDS instance named {id} in {aws.Region}");
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBInstances", logger);
        }
    }
}
