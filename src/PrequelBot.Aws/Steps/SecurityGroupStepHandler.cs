using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Planning;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// <c>security-group</c>: inbound TCP &lt;port&gt; from each Prequel static IP /32 on the target's first VPC security group,
/// unless a rule in any attached group already covers it. <c>InvalidPermission.Duplicate</c> counts as success.
/// </summary>
public sealed class SecurityGroupStepHandler(AwsClients aws, IOptions<PrequelOptions> prequel, ILogger<SecurityGroupStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.SecurityGroup;

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (plan, target) = await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false);
        if (plan.ToAdd.Count == 0)
        {
            return StepPlan.AlreadyInPlace(string.Join("; ", plan.Covered));
        }
        var note = context.Request.Replica ? $"{target.InstanceIdentifier} shares these security groups with {context.Request.InstanceIdentifier}." : null;
        return StepPlan.Change(plan.ChangeLines, note);
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (plan, _) = await PlanCoreAsync(context, cancellationToken).ConfigureAwait(false);
        var description = $"Prequel static IP (PrequelBot {context.OnboardingId})";
        foreach (var ip in plan.ToAdd)
        {
            try
            {
                await aws.Ec2.AuthorizeSecurityGroupIngressAsync(new AuthorizeSecurityGroupIngressRequest
                {
                    GroupId = plan.GroupId,
                    IpPermissions =
                    [
                        new IpPermission
                        {
                            IpProtocol = "tcp",
                            FromPort = plan.Port,
                            ToPort = plan.Port,
                            Ipv4Ranges = [new IpRange { CidrIp = $"{ip}/32", Description = description }],
                        },
                    ],
                }, cancellationToken).ConfigureAwait(false);
                AwsLog.IngressAdded(logger, plan.Port, ip, plan.GroupId, context.OnboardingId);
            }
            catch (AmazonEC2Exception e) when (e.ErrorCode == "InvalidPermission.Duplicate")
            {
                AwsLog.IngressExisted(logger, ip, plan.GroupId);
            }
            catch (AmazonServiceException e)
            {
                throw AwsStepSupport.Translate(e, "AuthorizeSecurityGroupIngress");
            }
        }
        return StepResult.Done(plan.ToAdd.Count == 0
            ? "already in place"
            : $"added {plan.ToAdd.Count} inbound rule(s) for TCP {plan.Port} to {plan.GroupId}");
    }

    private async Task<(SecurityGroupPlan Plan, DatabaseFacts Target)> PlanCoreAsync(StepContext context, CancellationToken cancellationToken)
    {
        var ips = AwsStepSupport.StaticIps(prequel.Value);
        var (target, _) = AwsStepSupport.Target(context);
        if (target.SecurityGroupIds.Count == 0)
        {
            throw new StepFailedException($"{target.InstanceIdentifier} has no VPC security group; PrequelBot cannot open it");
        }
        List<IngressRule> rules = [];
        try
        {
            var response = await aws.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { GroupIds = [.. target.SecurityGroupIds] }, cancellationToken).ConfigureAwait(false);
            foreach (var group in response.SecurityGroups ?? [])
            {
                foreach (var permission in group.IpPermissions ?? [])
                {
                    rules.Add(new IngressRule(group.GroupId, permission.IpProtocol ?? "", permission.FromPort, permission.ToPort,
                        [.. (permission.Ipv4Ranges ?? []).Select(r => r.CidrIp).OfType<string>()]));
                }
            }
        }
        catch (AmazonServiceException e)
        {
            throw AwsStepSupport.Translate(e, "DescribeSecurityGroups");
        }
        return (SecurityGroupPlanner.Plan(target.SecurityGroupIds[0], target.Port, ips, rules), target);
    }
}
