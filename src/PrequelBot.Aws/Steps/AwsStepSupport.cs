using System.Net;
using Amazon.Runtime;
using PrequelBot.Aws.Planning;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>Helpers shared by the AWS step handlers: facts mapping, target resolution, error translation.</summary>
internal static class AwsStepSupport
{
    public const string ManagedByTag = SecurityGroupPlanner.ManagedByTag;
    public const string ManagedByValue = SecurityGroupPlanner.ManagedByValue;
    public const string OnboardingTag = "prequelbot-onboarding";

    public static DatabaseFacts ToFacts(RdsDbInstance instance, IReadOnlyList<string>? subnetIds = null, int? fallbackPort = null) => new()
    {
        InstanceIdentifier = instance.Identifier,
        Engine = instance.Engine,
        EngineVersion = instance.EngineVersion,
        InstanceClass = instance.InstanceClass,
        Status = instance.Status,
        EndpointAddress = instance.EndpointAddress,
        Port = instance.EndpointPort ?? fallbackPort ?? 5432,
        VpcId = instance.VpcId,
        SecurityGroupIds = instance.SecurityGroupIds,
        SubnetGroupName = instance.SubnetGroupName,
        SubnetIds = subnetIds ?? instance.SubnetIds,
        PubliclyAccessible = instance.PubliclyAccessible,
        AvailabilityZone = instance.AvailabilityZone,
        DatabaseName = instance.DatabaseName,
    };

    /// <summary>
    /// The instance later steps change: <see cref="OnboardingFacts.Target"/>; in a preview with <c>--replica</c>
    /// before the replica exists, a prediction (the source's VPC, groups and subnets, public).
    /// </summary>
    public static (DatabaseFacts Target, bool Predicted) Target(StepContext context)
    {
        var facts = context.Facts;
        if (facts.Target is { } target && (!context.Request.Replica || !string.Equals(target.InstanceIdentifier, context.Request.InstanceIdentifier, StringComparison.OrdinalIgnoreCase)))
        {
            return (target, false);
        }
        var source = facts.Source ?? throw new StepFailedException("discover has not run: no facts about the database yet");
        if (context.Request.Replica && context.Request.ReplicaId is { } replicaId)
        {
            if (!context.IsPreview)
            {
                throw new StepFailedException($"the replica {replicaId} has not been created yet");
            }
            var placement = facts.ReplicaSubnetGroup;
            return (source with
            {
                InstanceIdentifier = replicaId, PubliclyAccessible = true, EndpointAddress = null, Status = "creating",
                InstanceClass = context.Request.ReplicaClass ?? source.InstanceClass,
                SubnetGroupName = placement?.Name ?? source.SubnetGroupName,
                SubnetIds = placement?.SubnetIds ?? source.SubnetIds,
                SubnetRoutes = placement?.SubnetRoutes ?? source.SubnetRoutes,
            }, true);
        }
        return (source, false);
    }

    /// <summary>The default route of each subnet (empty without a VPC: nothing to read).</summary>
    public static async Task<IReadOnlyList<SubnetRoute>> RoutesAsync(AwsClients aws, string? vpcId, IReadOnlyList<string> subnetIds, CancellationToken cancellationToken) =>
        vpcId is null || subnetIds.Count == 0 ? [] : await Network.RouteTableReader.ReadAsync(aws.Ec2, vpcId, subnetIds, cancellationToken).ConfigureAwait(false);

    /// <summary><c>--replica-subnet-group</c>: it must exist and be in the source's VPC (a replica stays in its source's VPC).</summary>
    public static async Task<SubnetGroupFacts> ReplicaSubnetGroupAsync(AwsClients aws, string name, DatabaseFacts source, CancellationToken cancellationToken)
    {
        var group = await aws.Rds.DescribeDBSubnetGroupAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new StepFailedException($"No DB subnet group named {name} in {aws.Region}; --replica-subnet-group names an existing DB subnet group in {source.VpcId}");
        if (!string.Equals(group.VpcId, source.VpcId, StringComparison.Ordinal))
        {
            throw new StepFailedException($"DB subnet group {name} is in {group.VpcId}, but {source.InstanceIdentifier} is in {source.VpcId}; the replica must be in the source's VPC: choose a DB subnet group there");
        }
        return new SubnetGroupFacts
        {
            Name = group.Name.Length > 0 ? group.Name : name,
            VpcId = group.VpcId,
            SubnetIds = group.SubnetIds,
            SubnetRoutes = await AwsStepSupport.RoutesAsync(aws, group.VpcId, group.SubnetIds, cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// Turns an AWS error into a chat-safe permanent failure (error code and a short message without ARNs or account
    /// ids, see <see cref="AwsErrorText"/>; the full text is logged), except throttling and 5xx (returned as they are:
    /// the engine retries them and shows only their type).
    /// </summary>
    public static Exception Translate(AmazonServiceException e, string action, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(logger);
        if (e.ErrorCode is "Throttling" or "ThrottlingException" or "RequestLimitExceeded" or "ServiceUnavailable" or "InternalFailure" || (int)e.StatusCode >= 500)
        {
            return e;
        }
        AwsLog.AwsCallFailed(logger, action, e.ErrorCode, e.RequestId, e.Message);
        var hint = e.ErrorCode is "AccessDenied" or "AccessDeniedException" or "UnauthorizedOperation" or "SignatureDoesNotMatch" or "InvalidClientTokenId" or "ExpiredToken" or "AuthFailure"
            ? " (check the bot's AWS credentials and IAM policy)"
            : "";
        return new StepFailedException($"AWS {action} failed: {e.ErrorCode ?? "error"}: {AwsErrorText.Sanitize(e.Message)}{hint}", e);
    }

}
