using Amazon.EC2;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>moto makes replicas available at once, so the waiting logic is tested over a scripted RDS port.</summary>
public class WaitReplicaStepHandlerTests
{
    private sealed class MidRandom : Random
    {
        public override double NextDouble() => 0.5;
    }

    private static RdsDbInstance Replica(string status, string? address = null) => new()
    {
        Identifier = "orders-prequel-replica", Engine = "postgres", Status = status, EndpointAddress = address, EndpointPort = address is null ? null : 5432,
        SecurityGroupIds = ["sg-1"], SubnetIds = ["subnet-1"], PubliclyAccessible = true,
    };

    private static (WaitReplicaStepHandler Handler, ScriptedRds Rds) Handler(params RdsDbInstance?[] answers)
    {
        var rds = new ScriptedRds(answers);
        var endpoint = new AwsEndpoint(Options.Create(new AwsOptions { Region = "eu-west-1" }));
        using var unusedEc2 = new AmazonEC2Client(new Amazon.Runtime.AnonymousAWSCredentials(), Amazon.RegionEndpoint.EUWest1);
        return (new WaitReplicaStepHandler(new AwsClients(endpoint, rds, unusedEc2), new RecheckBackoff(new MidRandom()), Microsoft.Extensions.Logging.Abstractions.NullLogger<WaitReplicaStepHandler>.Instance), rds);
    }

    private static StepContext Context(OnboardingFacts facts, int attempt) => new()
    {
        OnboardingId = "ob-wait1",
        StepName = StepNames.WaitReplica,
        Request = new OnboardingRequest { DatabaseAlias = "orders", InstanceIdentifier = "orders", SourceName = "orders", Replica = true, ReplicaId = "orders-prequel-replica" },
        Facts = facts,
        Attempt = attempt,
    };

    [Fact]
    public async Task Creating_then_backing_up_then_available_waits_twice_with_growing_delays_then_records_the_endpoint()
    {
        var (handler, rds) = Handler(Replica("creating"), Replica("backing-up"), Replica("available", "r.x.eu-west-1.rds.amazonaws.com"));
        var facts = new OnboardingFacts { Source = new DatabaseFacts { InstanceIdentifier = "orders", Engine = "postgres" } };

        var first = await handler.ApplyAsync(Context(facts, 1), CancellationToken.None);
        var second = await handler.ApplyAsync(Context(facts, 2), CancellationToken.None);
        var third = await handler.ApplyAsync(Context(facts, 3), CancellationToken.None);

        Assert.Equal((StepOutcome.Wait, "replica orders-prequel-replica is creating", TimeSpan.FromSeconds(15)), (first.Outcome, first.Message, first.RecheckAfter));
        Assert.Equal((StepOutcome.Wait, "replica orders-prequel-replica is backing-up", TimeSpan.FromSeconds(30)), (second.Outcome, second.Message, second.RecheckAfter));
        Assert.Equal(StepOutcome.Done, third.Outcome);
        Assert.Equal(("orders-prequel-replica", "r.x.eu-west-1.rds.amazonaws.com", "available"), (facts.Target?.InstanceIdentifier, facts.Target?.EndpointAddress, facts.Target?.Status));
        Assert.Equal(3, rds.Calls);
    }

    [Theory]
    [InlineData("failed")]
    [InlineData("incompatible-parameters")]
    [InlineData("storage-full")]
    public async Task A_state_that_never_becomes_available_fails_the_step(string status)
    {
        var (handler, _) = Handler(Replica(status));

        var result = await handler.ApplyAsync(Context(new OnboardingFacts(), 1), CancellationToken.None);

        Assert.Equal((StepOutcome.Failed, $"replica orders-prequel-replica is {status}; it will not become available by itself"), (result.Outcome, result.Message));
    }

    [Fact]
    public async Task A_replica_not_yet_visible_is_waited_for_a_few_checks_then_fails()
    {
        var (handler, _) = Handler((RdsDbInstance?)null);

        var early = await handler.ApplyAsync(Context(new OnboardingFacts(), 1), CancellationToken.None);
        var late = await handler.ApplyAsync(Context(new OnboardingFacts(), WaitReplicaStepHandler.NotFoundTolerance + 1), CancellationToken.None);

        Assert.Equal(StepOutcome.Wait, early.Outcome);
        Assert.Equal(StepOutcome.Failed, late.Outcome);
    }
}
