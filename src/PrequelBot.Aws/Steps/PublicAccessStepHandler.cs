using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>public-access</c>: ModifyDBInstance PubliclyAccessible=true, ApplyImmediately=true on the target when it is not
/// public. Reads the real flag first; idempotent.
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
        if (current.PubliclyAccessible)
        {
            return StepPlan.AlreadyInPlace($"{target.InstanceIdentifier} is already publicly accessible");
        }
        return StepPlan.Change($"make {target.InstanceIdentifier} publicly accessible (ModifyDBInstance PubliclyAccessible=true, applied immediately)",
            note: "Access stays limited by the security group and network ACL rules of the next steps.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (target, _) = AwsStepSupport.Target(context);
        var current = await DescribeAsync(target.InstanceIdentifier, cancellationToken).ConfigureAwait(false);
        if (!current.PubliclyAccessible)
        {
            try
            {
                current = await aws.Rds.MakePubliclyAccessibleAsync(target.InstanceIdentifier, cancellationToken).ConfigureAwait(false);
                AwsLog.MadePublic(logger, target.InstanceIdentifier, context.OnboardingId);
            }
            catch (RdsServiceException e) when (e.ErrorCode == RdsErrorCodes.InvalidDBInstanceState)
            {
                return StepResult.Wait($"{target.InstanceIdentifier} is busy ({current.Status}); will try again", backoff.Delay(context.Attempt));
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "ModifyDBInstance");
            }
        }
        context.Facts.Target = target with { PubliclyAccessible = true, Status = current.Status ?? target.Status, EndpointAddress = current.EndpointAddress ?? target.EndpointAddress };
        return StepResult.Done($"{target.InstanceIdentifier} is publicly accessible");
    }

    private async Task<RdsDbInstance> DescribeAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await aws.Rds.DescribeDBInstanceAsync(id, cancellationToken).ConfigureAwait(false)
                ?? throw new StepFailedException($"No RDS instance named {id} in {aws.Region}");
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeDBInstances");
        }
    }
}
