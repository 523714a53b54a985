using Amazon.EC2.Model;
using Microsoft.Extensions.Logging.Abstractions;
using PrequelBot.Aws.Rds;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>An Aurora member (moto has no Aurora members: the instance comes from a scripted RDS port, its groups from moto).</summary>
public sealed class SecurityGroupAuroraTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    private async Task<(SecurityGroupStepHandler Handler, StepContext Context, string GroupId)> AuroraMemberAsync(string? securityGroupId = null, bool useSeededGroup = false)
    {
        var harness = new AwsStepsHarness(moto, "35.192.85.117");
        var vpc = (await moto.Ec2.CreateVpcAsync(new CreateVpcRequest { CidrBlock = "10.30.0.0/16" }, TestContext.Current)).Vpc.VpcId;
        var group = (await moto.Ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest { GroupName = AwsStepsHarness.UniqueName("aurora"), Description = "cluster", VpcId = vpc }, TestContext.Current)).GroupId;
        var member = new RdsDbInstance { Identifier = "orders-1", Engine = "aurora-postgresql", ClusterIdentifier = "orders", VpcId = vpc, SecurityGroupIds = [group] };
        var handler = new SecurityGroupStepHandler(new AwsClients(moto.Endpoint, new ScriptedRds(member), moto.Ec2), harness.Prequel, NullLogger<SecurityGroupStepHandler>.Instance);
        var facts = new OnboardingFacts { Source = new DatabaseFacts { InstanceIdentifier = "orders-1", Engine = "aurora-postgresql", VpcId = vpc, SecurityGroupIds = [group] } };
        var context = AwsStepsHarness.Context(StepNames.SecurityGroup, "orders-1", facts, securityGroupId: useSeededGroup ? group : securityGroupId);
        return (handler, context, group);
    }

    [Fact]
    public async Task An_aurora_member_is_not_given_a_dedicated_group_and_the_failure_names_the_cluster_groups()
    {
        var (handler, context, group) = await AuroraMemberAsync();

        var error = await Assert.ThrowsAsync<StepFailedException>(() => handler.PlanAsync(context, TestContext.Current));

        Assert.Equal(
            $"orders-1 is a member of Aurora cluster orders, whose security groups are set on the cluster; PrequelBot cannot add prequelbot-orders-1 to it yet: " +
            $"name one of its groups ({group}) with --security-group <sg-id>", error.Message);
    }

    [Fact]
    public async Task An_aurora_member_with_security_group_gets_the_rules_on_that_group()
    {
        var (handler, context, group) = await AuroraMemberAsync(useSeededGroup: true);

        var plan = await handler.PlanAsync(context, TestContext.Current);

        Assert.Equal([$"add inbound TCP 5432 from 35.192.85.117/32 to {group}"], plan.Changes);
    }
}
