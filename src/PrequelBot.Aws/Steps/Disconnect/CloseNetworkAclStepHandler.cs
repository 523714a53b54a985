using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps.Disconnect;

/// <summary>
/// <c>close-network-acl</c> (disconnect): deletes exactly the ACL entries the change record says this bot created, each
/// only while the entry at that number is still the one it made (same direction, allow, TCP, /32 and ports). An entry that
/// was changed since is left alone and the card says so; every other entry of the ACL is untouched (docs/workflow.md,
/// "Disconnect"). Idempotent: a deleted entry is "already gone" on a re-run.
/// </summary>
public sealed class CloseNetworkAclStepHandler(AwsClients aws, ILogger<CloseNetworkAclStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.CloseNetworkAcl;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ToStepPlan(await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false));
    }

    private static StepPlan ToStepPlan((IReadOnlyList<RecordedAclEntry> Delete, IReadOnlyList<string> Notes) work)
    {
        var (delete, notes) = work;
        return delete.Count == 0
            ? StepPlan.AlreadyInPlace(string.Join("; ", notes))
            : StepPlan.Change(delete.Select(e => $"delete network ACL entry {e}"), notes.Count == 0 ? "Every other entry of these ACLs stays as it is." : string.Join("; ", notes) + ". Every other entry stays as it is.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var work = await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false);
        context.EnsureApproved(ToStepPlan(work));
        var delete = work.Delete;
        foreach (var entry in delete)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await aws.Ec2.DeleteNetworkAclEntryAsync(new DeleteNetworkAclEntryRequest { NetworkAclId = entry.AclId, RuleNumber = entry.RuleNumber, Egress = entry.Egress }, cancellationToken).ConfigureAwait(false);
                DisconnectLog.AclEntryDeleted(logger, entry.AclId, entry.RuleNumber, entry.Direction, context.OnboardingId);
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode is "InvalidNetworkAclEntry.NotFound" or "InvalidNetworkAclID.NotFound")
            {
                // Gone already (an earlier run of this step).
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "DeleteNetworkAclEntry", logger);
            }
        }
        return StepResult.Done(delete.Count == 0 ? "nothing to delete" : $"deleted {delete.Count} network ACL entr{(delete.Count == 1 ? "y" : "ies")} PrequelBot had created");
    }

    /// <summary>The recorded entries still in place as the bot made them, and a note for each one that is not.</summary>
    private async Task<(IReadOnlyList<RecordedAclEntry> Delete, IReadOnlyList<string> Notes)> PlanCoreAsync(StepContext context, CancellationToken cancellationToken)
    {
        var recorded = context.Facts.Changes.AclEntries;
        if (recorded.Count == 0) return ([], ["PrequelBot created no network ACL entry for this database"]);
        List<RecordedAclEntry> delete = [];
        List<string> notes = [];
        foreach (var byAcl in recorded.GroupBy(e => e.AclId, StringComparer.Ordinal))
        {
            NetworkAcl? acl;
            try
            {
                acl = (await aws.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { NetworkAclIds = [byAcl.Key] }, cancellationToken).ConfigureAwait(false)).NetworkAcls?.FirstOrDefault();
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidNetworkAclID.NotFound")
            {
                acl = null;
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "DescribeNetworkAcls", logger);
            }
            if (acl is null)
            {
                notes.Add($"network ACL {byAcl.Key} no longer exists");
                continue;
            }
            foreach (var entry in byAcl)
            {
                var live = (acl.Entries ?? []).FirstOrDefault(e => e.RuleNumber == entry.RuleNumber && (e.Egress ?? false) == entry.Egress);
                if (live is null) notes.Add($"{entry} is already gone");
                else if (IsTheOneRecorded(live, entry)) delete.Add(entry);
                else notes.Add($"{entry.AclId} {entry.Direction} rule {entry.RuleNumber} was changed since PrequelBot created it and is left alone");
            }
        }
        return (delete, notes);
    }

    private static bool IsTheOneRecorded(NetworkAclEntry live, RecordedAclEntry entry) =>
        live.RuleAction == RuleAction.Allow && live.Protocol == "6" && live.CidrBlock == entry.Cidr &&
        live.PortRange?.From == entry.FromPort && live.PortRange?.To == entry.ToPort;
}
