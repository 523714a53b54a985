using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Aws.Network;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps.Disconnect;

/// <summary>
/// <c>close-security-group</c> (disconnect): the dedicated group this bot created is taken off the instance's (or Aurora
/// cluster's) group list, keeping every other group, and deleted; rules it added to a group named with
/// <c>--security-group</c> are revoked one by one. A rule that existed before the connect is not in the record and is never
/// touched (docs/workflow.md, "Disconnect"). Idempotent; while AWS still holds the group in use, the step waits.
/// </summary>
public sealed class CloseSecurityGroupStepHandler(AwsClients aws, ILogger<CloseSecurityGroupStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.CloseSecurityGroup;

    private sealed record Work(string? Detach, string? DeleteGroup, IReadOnlyList<RecordedRule> Revoke, IReadOnlyList<string> Changes, IReadOnlyList<string> Notes);

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ToStepPlan(await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false));
    }

    private static StepPlan ToStepPlan(Work work)
    {
        return work.Changes.Count == 0
            ? StepPlan.AlreadyInPlace(string.Join("; ", work.Notes))
            : StepPlan.Change(work.Changes, string.Join("; ", [.. work.Notes, "the instance's other security groups and their rules stay as they are"]) + ".");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var work = await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false);
        // A re-check while AWS still holds the group in use continues the approved change (the engine passes no plan then).
        context.EnsureApproved(ToStepPlan(work));
        var record = context.Facts.Changes;
        if (work.Detach is { } detach && Holder(record) is { } holder)
        {
            try
            {
                await holder.RemoveAsync(detach, cancellationToken).ConfigureAwait(false);
                DisconnectLog.GroupDetached(logger, detach, holder.Name, context.OnboardingId);
            }
            catch (RdsServiceException e) when (e.ErrorCode is RdsErrorCodes.InvalidDBInstanceState or RdsErrorCodes.InvalidDBClusterState)
            {
                return StepResult.Wait($"{holder.Name} is busy; will remove {detach} when it is available", TimeSpan.FromSeconds(30));
            }
            catch (InvalidOperationException e)
            {
                throw new StepFailedException(e.Message, e);
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, record.GroupAttachedToCluster ? "ModifyDBCluster" : "ModifyDBInstance", logger);
            }
        }
        foreach (var rule in work.Revoke)
        {
            try
            {
                await aws.Ec2.RevokeSecurityGroupIngressAsync(new RevokeSecurityGroupIngressRequest
                {
                    GroupId = rule.GroupId,
                    IpPermissions = [new IpPermission { IpProtocol = "tcp", FromPort = rule.Port, ToPort = rule.Port, Ipv4Ranges = [new IpRange { CidrIp = rule.Cidr }] }],
                }, cancellationToken).ConfigureAwait(false);
                DisconnectLog.RuleRevoked(logger, rule.Port, rule.Cidr, rule.GroupId, context.OnboardingId);
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode is "InvalidPermission.NotFound" or "InvalidGroup.NotFound")
            {
                // Gone already.
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "RevokeSecurityGroupIngress", logger);
            }
        }
        if (work.DeleteGroup is { } group)
        {
            try
            {
                await aws.Ec2.DeleteSecurityGroupAsync(new DeleteSecurityGroupRequest { GroupId = group }, cancellationToken).ConfigureAwait(false);
                DisconnectLog.GroupDeleted(logger, group, context.OnboardingId);
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidGroup.NotFound")
            {
                // Gone already.
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "DependencyViolation")
            {
                // The instance's network interfaces still use it until the group change is applied.
                return StepResult.Wait($"AWS still uses {group} while the group change is applied; will delete it then", TimeSpan.FromSeconds(30));
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "DeleteSecurityGroup", logger);
            }
        }
        return StepResult.Done(work.Changes.Count == 0 ? "nothing to remove" : "done: " + string.Join("; ", work.Changes));
    }

    private async Task<Work> PlanCoreAsync(StepContext context, CancellationToken cancellationToken)
    {
        var record = context.Facts.Changes;
        List<string> changes = [];
        List<string> notes = [];
        string? detach = null;
        string? deleteGroup = null;
        List<RecordedRule> revoke = [];
        try
        {
            if (record.DedicatedGroupId is { } dedicated)
            {
                var group = await DescribeAsync(dedicated, cancellationToken).ConfigureAwait(false);
                if (group is null)
                {
                    notes.Add($"security group {dedicated} is already gone");
                }
                else
                {
                    var holder = Holder(record);
                    if (holder is not null)
                    {
                        IReadOnlyList<string> current;
                        try
                        {
                            current = await holder.CurrentGroupsAsync(cancellationToken).ConfigureAwait(false);
                        }
                        catch (InvalidOperationException)
                        {
                            current = []; // the instance is gone: nothing to take the group off
                        }
                        if (current.Contains(dedicated, StringComparer.Ordinal))
                        {
                            detach = dedicated;
                            changes.Add($"remove {dedicated} from {(record.GroupAttachedToCluster ? "Aurora cluster " : "")}{holder.Name}'s security groups (keeping {string.Join(", ", current.Where(g => g != dedicated))})");
                        }
                    }
                    deleteGroup = dedicated;
                    changes.Add($"delete security group {group.GroupName} ({dedicated}), which PrequelBot created");
                }
            }
            foreach (var byGroup in record.Rules.Where(r => r.GroupId != record.DedicatedGroupId).GroupBy(r => r.GroupId, StringComparer.Ordinal))
            {
                var group = await DescribeAsync(byGroup.Key, cancellationToken).ConfigureAwait(false);
                foreach (var rule in byGroup)
                {
                    var present = group is not null && (group.IpPermissions ?? []).Any(p => p.IpProtocol == "tcp" && p.FromPort == rule.Port && p.ToPort == rule.Port && (p.Ipv4Ranges ?? []).Any(r => r.CidrIp == rule.Cidr));
                    if (present)
                    {
                        revoke.Add(rule);
                        changes.Add($"revoke inbound TCP {rule.Port} from {rule.Cidr} on {rule.GroupId}, which PrequelBot added");
                    }
                    else
                    {
                        notes.Add($"inbound TCP {rule.Port} from {rule.Cidr} on {rule.GroupId} is already gone");
                    }
                }
            }
        }
        catch (InvalidOperationException e)
        {
            throw new StepFailedException(e.Message, e);
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeSecurityGroups", logger);
        }
        if (record.DedicatedGroupId is null && record.Rules.Count == 0)
        {
            notes.Add("PrequelBot created no security group or rule for this database");
        }
        return new Work(detach, deleteGroup, revoke, changes, notes);
    }

    private async Task<SecurityGroup?> DescribeAsync(string groupId, CancellationToken cancellationToken)
    {
        try
        {
            return (await aws.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [groupId] }, cancellationToken).ConfigureAwait(false)).SecurityGroups?.FirstOrDefault();
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidGroup.NotFound")
        {
            return null;
        }
    }

    private ISecurityGroupHolder? Holder(ChangeRecord record) => record.GroupAttachedTo switch
    {
        null => null,
        var name when record.GroupAttachedToCluster => new RdsClusterSecurityGroups(aws.Rds, name),
        var name => new RdsInstanceSecurityGroups(aws.Rds, name),
    };
}
