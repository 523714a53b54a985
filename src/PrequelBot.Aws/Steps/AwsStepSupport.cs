using System.Net;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>Helpers shared by the AWS step handlers: facts mapping, target resolution, error translation.</summary>
internal static partial class AwsStepSupport
{
    public const string ManagedByTag = "managed-by";
    public const string ManagedByValue = "prequelbot";
    public const string OnboardingTag = "prequelbot-onboarding";

    /// <summary>Prequel's static IPs; a clear failure when none is configured.</summary>
    public static IReadOnlyList<IPAddress> StaticIps(PrequelOptions options)
    {
        var ips = options.StaticIps.Where(s => !string.IsNullOrWhiteSpace(s)).ToList();
        if (ips.Count == 0)
        {
            throw new StepFailedException("Prequel:StaticIps is not configured: set Prequel's static IPv4 addresses for this account");
        }
        List<IPAddress> parsed = [];
        foreach (var ip in ips)
        {
            if (!IPAddress.TryParse(ip.Trim(), out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
            {
                throw new StepFailedException($"Prequel:StaticIps contains \"{ip.Trim()}\", which is not an IPv4 address");
            }
            parsed.Add(address);
        }
        return [.. parsed.Distinct()];
    }

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
            return (source with { InstanceIdentifier = replicaId, PubliclyAccessible = true, EndpointAddress = null, Status = "creating", InstanceClass = context.Request.ReplicaClass ?? source.InstanceClass }, true);
        }
        return (source, false);
    }

    /// <summary>
    /// Turns an AWS error into a chat-safe permanent failure, except throttling and 5xx (rethrown: the engine retries them).
    /// </summary>
    public static Exception Translate(AmazonServiceException e, string action)
    {
        if (e.ErrorCode is "Throttling" or "ThrottlingException" or "RequestLimitExceeded" or "ServiceUnavailable" or "InternalFailure" || (int)e.StatusCode >= 500)
        {
            return e;
        }
        var hint = e.ErrorCode is "AccessDenied" or "AccessDeniedException" or "UnauthorizedOperation" or "SignatureDoesNotMatch" or "InvalidClientTokenId" or "ExpiredToken" or "AuthFailure"
            ? " (check the bot's AWS credentials and IAM policy)"
            : "";
        return new StepFailedException($"AWS {action} failed: {e.ErrorCode}: {e.Message}{hint}", e);
    }

    /// <summary>RDS identifier rules: 1-63 letters, digits or hyphens, starting with a letter, no "--", no trailing "-".</summary>
    public static bool IsValidInstanceIdentifier(string id) => id.Length is >= 1 and <= 63 && InstanceId().IsMatch(id) && !id.Contains("--", StringComparison.Ordinal) && !id.EndsWith('-');

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9-]*$")]
    private static partial Regex InstanceId();
}
