using Microsoft.Extensions.Logging;

namespace PrequelBot.Aws.Steps.Disconnect;

/// <summary>Log messages of the disconnect steps (structured, ids only).</summary>
internal static partial class DisconnectLog
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Deleted network ACL entry {AclId} {Direction} rule {RuleNumber} for {OnboardingId}")]
    public static partial void AclEntryDeleted(ILogger logger, string aclId, int ruleNumber, string direction, string onboardingId);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Removed security group {GroupId} from {Holder} for {OnboardingId}")]
    public static partial void GroupDetached(ILogger logger, string groupId, string holder, string onboardingId);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "Deleted security group {GroupId} for {OnboardingId}")]
    public static partial void GroupDeleted(ILogger logger, string groupId, string onboardingId);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "Revoked inbound TCP {Port} from {Cidr} on {GroupId} for {OnboardingId}")]
    public static partial void RuleRevoked(ILogger logger, int port, string cidr, string groupId, string onboardingId);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "Turned off public access of {Instance} for {OnboardingId}")]
    public static partial void MadePrivate(ILogger logger, string instance, string onboardingId);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Information, Message = "Deleting instance {Instance} for {OnboardingId}")]
    public static partial void InstanceDeleting(ILogger logger, string instance, string onboardingId);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Information, Message = "Taking snapshot {Snapshot} of {Instance} for {OnboardingId}")]
    public static partial void SnapshotStarted(ILogger logger, string snapshot, string instance, string onboardingId);
}
