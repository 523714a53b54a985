using Microsoft.Extensions.Logging;

namespace PrequelBot.Aws.Steps;

/// <summary>Structured log messages of the AWS steps (named placeholders; never a secret).</summary>
internal static partial class AwsLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Discovered {Instance} ({Engine}, {Status}) in {VpcId} for {OnboardingId}")]
    public static partial void Discovered(ILogger logger, string instance, string engine, string? status, string? vpcId, string onboardingId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Created read replica {ReplicaId} of {Instance} for {OnboardingId}")]
    public static partial void ReplicaCreated(ILogger logger, string replicaId, string instance, string onboardingId);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Made {Instance} publicly accessible for {OnboardingId}")]
    public static partial void MadePublic(ILogger logger, string instance, string onboardingId);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information, Message = "Allowed TCP {Port} from {Ip} on {GroupId} for {OnboardingId}")]
    public static partial void IngressAdded(ILogger logger, int port, System.Net.IPAddress ip, string groupId, string onboardingId);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Rule for {Ip} on {GroupId} already exists")]
    public static partial void IngressExisted(ILogger logger, System.Net.IPAddress ip, string groupId);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "Created {AclId} rule {RuleNumber} ({Rule}) for {OnboardingId}")]
    public static partial void AclEntryCreated(ILogger logger, string aclId, int ruleNumber, PrequelBot.Aws.Planning.WantedAclRule rule, string onboardingId);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "AWS {Action} failed with {ErrorCode} (request {RequestId}): {AwsMessage}")]
    public static partial void AwsCallFailed(ILogger logger, string action, string? errorCode, string? requestId, string awsMessage);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Information, Message = "Created security group {GroupId} ({GroupName}) for {OnboardingId}")]
    public static partial void GroupCreated(ILogger logger, string groupId, string groupName, string onboardingId);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Information, Message = "Added security group {GroupId} to {Instance} for {OnboardingId}")]
    public static partial void GroupAttached(ILogger logger, string groupId, string instance, string onboardingId);
}
