using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps.Disconnect;

/// <summary>
/// <c>restore-public-access</c> (disconnect): only when the change record says this bot turned the public flag on, sets it
/// back to what it was (ModifyDBInstance PubliclyAccessible=false, applied immediately). A flag that was already on before
/// the connect is left alone (docs/workflow.md, "Disconnect"). Idempotent.
/// </summary>
public sealed class RestorePublicAccessStepHandler(AwsClients aws, ILogger<RestorePublicAccessStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.RestorePublicAccess;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = context.Facts.Changes;
        if (record.PublicFlagChangedOn is not { } instance || record.PreviousPublicFlag != false)
        {
            return StepPlan.AlreadyInPlace(context.Facts.Target is { PubliclyAccessible: true } target && record.ReplicaId != target.InstanceIdentifier
                ? $"{target.InstanceIdentifier} was publicly accessible before the connect; left as it is"
                : "PrequelBot changed no public flag for this database");
        }
        var live = await DescribeAsync(instance, cancellationToken).ConfigureAwait(false);
        if (live is null) return StepPlan.AlreadyInPlace($"{instance} no longer exists");
        if (!live.PubliclyAccessible) return StepPlan.AlreadyInPlace($"{instance} is not publicly accessible");
        return StepPlan.Change($"make {instance} private again (ModifyDBInstance PubliclyAccessible=false, applied immediately), as it was before the connect");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.EnsureApproved(await PlanAsync(context, cancellationToken).ConfigureAwait(false));
        var instance = context.Facts.Changes.PublicFlagChangedOn ?? throw new StepFailedException("no public flag change is recorded");
        var live = await DescribeAsync(instance, cancellationToken).ConfigureAwait(false);
        if (live is null || !live.PubliclyAccessible) return StepResult.Done($"{instance} is not publicly accessible");
        try
        {
            await aws.Rds.SetPubliclyAccessibleAsync(instance, false, cancellationToken).ConfigureAwait(false);
            DisconnectLog.MadePrivate(logger, instance, context.OnboardingId);
        }
        catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.InvalidDBInstanceState)
        {
            return StepResult.Wait($"{instance} is busy ({live.Status}); will try again", TimeSpan.FromSeconds(30));
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "ModifyDBInstance", logger);
        }
        return StepResult.Done($"{instance} is private again");
    }

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
