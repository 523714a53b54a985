using Amazon.EC2;
using Amazon.EC2.Model;
using Microsoft.Extensions.Logging.Abstractions;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>Someone else takes a rule number between PrequelBot's read and its write.</summary>
public sealed class NetworkAclRaceOnMotoTests(MotoFixture moto) : IClassFixture<MotoFixture>
{
    /// <summary>An EC2 client that, once, creates a competing customer entry at the number PrequelBot is about to use.</summary>
    private sealed class RacingEc2Client(AmazonEC2Config config) : AmazonEC2Client(config)
    {
        private int _raced;

        public override async Task<CreateNetworkAclEntryResponse> CreateNetworkAclEntryAsync(CreateNetworkAclEntryRequest request, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _raced, 1) == 0)
            {
                await base.CreateNetworkAclEntryAsync(new CreateNetworkAclEntryRequest
                {
                    NetworkAclId = request.NetworkAclId, RuleNumber = request.RuleNumber, Egress = request.Egress, Protocol = "6",
                    RuleAction = RuleAction.Allow, CidrBlock = "192.0.2.0/24", PortRange = new PortRange { From = 443, To = 443 },
                }, cancellationToken);
            }
            return await base.CreateNetworkAclEntryAsync(request, cancellationToken);
        }
    }

    [Fact]
    public async Task A_taken_rule_number_is_re_planned_and_the_customer_rule_is_kept()
    {
        var harness = new AwsStepsHarness(moto, "35.192.85.117");
        var db = await harness.SeedAsync(customAcl: []);
        var facts = new OnboardingFacts();
        await harness.Discover.ApplyAsync(AwsStepsHarness.Context(StepNames.Discover, db.InstanceId, facts), TestContext.Current);
        using var racing = new RacingEc2Client(moto.Endpoint.Configure(new AmazonEC2Config()));
        var handler = new NetworkAclStepHandler(new AwsClients(moto.Endpoint, moto.Rds, racing), harness.Prequel, NullLogger<NetworkAclStepHandler>.Instance);

        var result = await handler.ApplyAsync(AwsStepsHarness.Context(StepNames.NetworkAcl, db.InstanceId, facts), TestContext.Current);

        Assert.Equal(StepOutcome.Done, result.Outcome);
        var entries = (await moto.Ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { NetworkAclIds = [db.CustomAclId!] }, TestContext.Current)).NetworkAcls.Single().Entries;
        Assert.Contains(entries, e => e.CidrBlock == "192.0.2.0/24");
        Assert.Contains(entries, e => e.CidrBlock == "35.192.85.117/32" && e.RuleNumber != entries.First(c => c.CidrBlock == "192.0.2.0/24").RuleNumber);
        Assert.False((await handler.PlanAsync(AwsStepsHarness.Context(StepNames.NetworkAcl, db.InstanceId, facts), TestContext.Current)).HasChanges);
    }
}
