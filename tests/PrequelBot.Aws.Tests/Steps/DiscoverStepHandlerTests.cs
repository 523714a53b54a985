using Amazon.EC2;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Rds;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>Discover cases moto cannot model (backups off; Aurora is covered on moto in AuroraStepsOnMotoTests), over a scripted RDS port.</summary>
public class DiscoverStepHandlerTests
{
    private static DiscoverStepHandler Handler(IRdsClient rds)
    {
        var endpoint = new AwsEndpoint(Options.Create(new AwsOptions { Region = "eu-west-1" }));
        var ec2 = new AmazonEC2Client(new Amazon.Runtime.AnonymousAWSCredentials(), Amazon.RegionEndpoint.EUWest1);
        return new DiscoverStepHandler(new AwsClients(endpoint, rds, ec2), new FixedPrequelEgress("35.192.85.117"), NullLogger<DiscoverStepHandler>.Instance);
    }

    private static StepContext Context(string? replicaId) => new()
    {
        OnboardingId = "ob-disc1",
        StepName = StepNames.Discover,
        Request = new OnboardingRequest { DatabaseAlias = "orders", InstanceIdentifier = "orders", SourceName = "orders", Replica = replicaId is not null, ReplicaId = replicaId },
        Facts = new OnboardingFacts(),
    };

    [Fact]
    public async Task Replica_of_a_source_without_backups_is_refused()
    {
        var rds = new ScriptedRds(new RdsDbInstance { Identifier = "orders", Engine = "postgres", BackupRetentionPeriod = 0 }, null);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => Handler(rds).ApplyAsync(Context("orders-prequel-replica"), CancellationToken.None));

        Assert.Contains("automated backups off", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1replica")]
    [InlineData("bad--id")]
    [InlineData("trailing-")]
    [InlineData("a-name-that-is-far-too-long-for-rds-because-it-exceeds-sixty-three-chars")]
    public async Task An_invalid_replica_id_is_refused_before_any_aws_call(string replicaId)
    {
        var rds = new ScriptedRds(new RdsDbInstance { Identifier = "orders", Engine = "postgres" });

        await Assert.ThrowsAsync<StepFailedException>(() => Handler(rds).ApplyAsync(Context(replicaId), CancellationToken.None));

        Assert.Equal(0, rds.Calls);
    }
}
