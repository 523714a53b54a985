using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Rds;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>
/// The moto server named by <c>Aws__ServiceUrl</c> (scripts/test.sh starts one and exports it with dummy credentials).
/// Credentials come from the SDK default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), as in production.
/// </summary>
public sealed class MotoFixture : IDisposable
{
    public const string MissingServerMessage = "set Aws__ServiceUrl to a moto server; scripts/test.sh does this";

    public MotoFixture()
    {
        var serviceUrl = Environment.GetEnvironmentVariable("Aws__ServiceUrl");
        if (string.IsNullOrWhiteSpace(serviceUrl))
        {
            throw new InvalidOperationException(MissingServerMessage);
        }
        var region = Environment.GetEnvironmentVariable("Aws__Region") is { Length: > 0 } r ? r : "us-east-1";
        Endpoint = new AwsEndpoint(Options.Create(new AwsOptions { Region = region, ServiceUrl = serviceUrl }));
        Clients = new AwsClients(Endpoint);
        RdsQuery = new RdsQueryClient(Endpoint.Configure(new RdsClientConfig()));
    }

    public AwsEndpoint Endpoint { get; }
    public AwsClients Clients { get; }
    public IAmazonEC2 Ec2 => Clients.Ec2;
    public IRdsClient Rds => Clients.Rds;
    /// <summary>Raw Query access for seeding (CreateDBInstance, CreateDBSubnetGroup are test-only).</summary>
    public RdsQueryClient RdsQuery { get; }

    public void Dispose()
    {
        RdsQuery.Dispose();
        Clients.Dispose();
    }
}

/// <summary>One seeded network and database in moto, with unique names.</summary>
public sealed record SeededDatabase(string InstanceId, string VpcId, string SecurityGroupId, IReadOnlyList<string> SubnetIds, string? CustomAclId)
{
    public string? SubnetGroupName { get; init; }
    /// <summary>The VPC's internet gateway (always attached), whether or not the subnets route to it.</summary>
    public string? InternetGatewayId { get; init; }
    /// <summary>The VPC's main route table, which the seeded subnets use.</summary>
    public string? MainRouteTableId { get; init; }
}

/// <summary>Where the seeded subnets send 0.0.0.0/0 (through the VPC's main route table).</summary>
public enum DefaultRoute
{
    /// <summary>An internet gateway: a public instance is reachable.</summary>
    InternetGateway,
    /// <summary>A NAT gateway only: private subnets.</summary>
    NatGateway,
    /// <summary>No default route at all.</summary>
    None,
}

/// <summary>Seeds moto through the AWS APIs and drives the AWS steps like the engine does.</summary>
public sealed class AwsStepsHarness(MotoFixture moto, params string[] staticIps)
{
    private static int _counter;

    public static string UniqueName(string prefix) =>
        $"{prefix}-{Environment.ProcessId % 1000}-{Interlocked.Increment(ref _counter)}-{Guid.NewGuid().ToString("N")[..6]}";

    public IPrequelEgress Prequel { get; } = new FixedPrequelEgress(staticIps);

    public DiscoverStepHandler Discover => new(moto.Clients, Prequel, NullLogger<DiscoverStepHandler>.Instance);
    public CreateReplicaStepHandler CreateReplica => new(moto.Clients, new RecheckBackoff(new Random(1)), NullLogger<CreateReplicaStepHandler>.Instance);
    public WaitReplicaStepHandler WaitReplica => new(moto.Clients, new RecheckBackoff(new Random(1)), NullLogger<WaitReplicaStepHandler>.Instance);
    public PublicAccessStepHandler PublicAccess => new(moto.Clients, new RecheckBackoff(new Random(1)), NullLogger<PublicAccessStepHandler>.Instance);
    public SecurityGroupStepHandler SecurityGroup => new(moto.Clients, Prequel, NullLogger<SecurityGroupStepHandler>.Instance);
    public NetworkAclStepHandler NetworkAcl => new(moto.Clients, Prequel, NullLogger<NetworkAclStepHandler>.Instance);

    public static StepContext Context(string step, string instanceId, OnboardingFacts facts, bool replica = false, bool preview = false, string onboardingId = "ob-test1",
        string? replicaSubnetGroup = null, string? securityGroupId = null) => new()
    {
        OnboardingId = onboardingId,
        StepName = step,
        Request = new OnboardingRequest
        {
            DatabaseAlias = instanceId,
            InstanceIdentifier = instanceId,
            SourceName = instanceId,
            Replica = replica,
            ReplicaId = replica ? instanceId + "-prequel-replica" : null,
            ReplicaSubnetGroup = replicaSubnetGroup,
            SecurityGroupId = securityGroupId,
        },
        Facts = facts,
        IsPreview = preview,
        StartedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>An Aurora PostgreSQL cluster (CreateDBCluster) in a network of <see cref="SeedAsync"/>: a private writer and <paramref name="readers"/> readers (CreateDBInstance in the cluster).</summary>
    public async Task<SeededCluster> SeedClusterAsync(int readers = 0, DefaultRoute route = DefaultRoute.InternetGateway)
    {
        var ct = TestContext.Current;
        var network = await SeedAsync(route: route);
        var clusterId = AwsStepsHarness.UniqueName("aurora");
        await moto.RdsQuery.InvokeActionAsync("CreateDBCluster",
        [
            new("DBClusterIdentifier", clusterId), new("Engine", "aurora-postgresql"), new("MasterUsername", "admin_user"),
            new("MasterUserPassword", "not-a-real-secret-1"), new("DBSubnetGroupName", network.SubnetGroupName!),
            new("VpcSecurityGroupIds.VpcSecurityGroupId.1", network.SecurityGroupId), new("Port", "5432"),
        ], ct);
        var writer = clusterId + "-w";
        List<string> ids = [writer];
        for (var i = 1; i <= readers; i++) ids.Add($"{clusterId}-r{i}");
        foreach (var id in ids)
        {
            await moto.RdsQuery.InvokeActionAsync("CreateDBInstance",
            [
                new("DBInstanceIdentifier", id), new("DBInstanceClass", "db.r6g.large"), new("Engine", "aurora-postgresql"),
                new("DBClusterIdentifier", clusterId), new("PubliclyAccessible", "false"),
            ], ct);
        }
        return new SeededCluster(clusterId, writer, ids[1..], network);
    }

    /// <summary>Seeds a VPC with two subnets, a security group, a DB subnet group and a DB instance.</summary>
    /// <remarks>With <c>customAcl</c>, both subnets are associated with a new custom ACL holding exactly those entries (moto adds none by itself).</remarks>
    public async Task<SeededDatabase> SeedAsync(string engine = "postgres", bool publiclyAccessible = false, IReadOnlyList<IpPermission>? ingress = null,
        IReadOnlyList<NetworkAclEntry>? customAcl = null, DefaultRoute route = DefaultRoute.InternetGateway)
    {
        var ct = TestContext.Current;
        var ec2 = moto.Ec2;
        var vpc = (await ec2.CreateVpcAsync(new CreateVpcRequest { CidrBlock = "10.20.0.0/16" }, ct)).Vpc;
        var (igw, mainTable) = await RouteAsync(vpc.VpcId, route);
        var subnetA = (await ec2.CreateSubnetAsync(new CreateSubnetRequest { VpcId = vpc.VpcId, CidrBlock = "10.20.1.0/24", AvailabilityZone = "us-east-1a" }, ct)).Subnet;
        var subnetB = (await ec2.CreateSubnetAsync(new CreateSubnetRequest { VpcId = vpc.VpcId, CidrBlock = "10.20.2.0/24", AvailabilityZone = "us-east-1b" }, ct)).Subnet;
        var sgName = UniqueName("db-sg");
        var sg = await ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest { GroupName = sgName, Description = "test database", VpcId = vpc.VpcId }, ct);
        if (ingress is { Count: > 0 })
        {
            await ec2.AuthorizeSecurityGroupIngressAsync(new AuthorizeSecurityGroupIngressRequest { GroupId = sg.GroupId, IpPermissions = [.. ingress] }, ct);
        }
        string? aclId = null;
        if (customAcl is not null)
        {
            aclId = (await ec2.CreateNetworkAclAsync(new CreateNetworkAclRequest { VpcId = vpc.VpcId }, ct)).NetworkAcl.NetworkAclId;
            foreach (var entry in customAcl)
            {
                await ec2.CreateNetworkAclEntryAsync(new CreateNetworkAclEntryRequest
                {
                    NetworkAclId = aclId, RuleNumber = entry.RuleNumber, Protocol = entry.Protocol, RuleAction = entry.RuleAction,
                    Egress = entry.Egress, CidrBlock = entry.CidrBlock, PortRange = entry.PortRange,
                }, ct);
            }
            foreach (var subnet in new[] { subnetA, subnetB })
            {
                var current = await ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { Filters = [new Filter("association.subnet-id", [subnet.SubnetId])] }, ct);
                var association = current.NetworkAcls.SelectMany(a => a.Associations ?? []).First(a => a.SubnetId == subnet.SubnetId);
                await ec2.ReplaceNetworkAclAssociationAsync(new ReplaceNetworkAclAssociationRequest { AssociationId = association.NetworkAclAssociationId, NetworkAclId = aclId }, ct);
            }
        }
        var subnetGroup = UniqueName("db-subnets");
        await moto.RdsQuery.InvokeActionAsync("CreateDBSubnetGroup",
        [
            new("DBSubnetGroupName", subnetGroup), new("DBSubnetGroupDescription", "test"),
            new("SubnetIds.SubnetIdentifier.1", subnetA.SubnetId), new("SubnetIds.SubnetIdentifier.2", subnetB.SubnetId),
        ], ct);
        var instanceId = UniqueName(engine == "postgres" ? "pg" : engine);
        await moto.RdsQuery.InvokeActionAsync("CreateDBInstance",
        [
            new("DBInstanceIdentifier", instanceId), new("DBInstanceClass", "db.t3.micro"), new("Engine", engine),
            new("MasterUsername", "admin_user"), new("MasterUserPassword", "not-a-real-secret-1"), new("AllocatedStorage", "20"),
            new("DBSubnetGroupName", subnetGroup), new("VpcSecurityGroupIds.VpcSecurityGroupId.1", sg.GroupId),
            new("PubliclyAccessible", publiclyAccessible ? "true" : "false"), new("BackupRetentionPeriod", "1"),
        ], ct);
        return new SeededDatabase(instanceId, vpc.VpcId, sg.GroupId, [subnetA.SubnetId, subnetB.SubnetId], aclId)
        {
            SubnetGroupName = subnetGroup, InternetGatewayId = igw, MainRouteTableId = mainTable,
        };
    }

    /// <summary>An internet gateway attached to the VPC, and the main route table's 0.0.0.0/0 route per <paramref name="route"/>.</summary>
    public async Task<(string InternetGatewayId, string MainRouteTableId)> RouteAsync(string vpcId, DefaultRoute route)
    {
        var ct = TestContext.Current;
        var ec2 = moto.Ec2;
        var igw = (await ec2.CreateInternetGatewayAsync(new CreateInternetGatewayRequest(), ct)).InternetGateway.InternetGatewayId;
        await ec2.AttachInternetGatewayAsync(new AttachInternetGatewayRequest { InternetGatewayId = igw, VpcId = vpcId }, ct);
        var main = (await ec2.DescribeRouteTablesAsync(new DescribeRouteTablesRequest { Filters = [new Filter("vpc-id", [vpcId]), new Filter("association.main", ["true"])] }, ct))
            .RouteTables.Single().RouteTableId;
        if (route == DefaultRoute.InternetGateway)
        {
            await ec2.CreateRouteAsync(new CreateRouteRequest { RouteTableId = main, DestinationCidrBlock = "0.0.0.0/0", GatewayId = igw }, ct);
        }
        else if (route == DefaultRoute.NatGateway)
        {
            await ec2.CreateRouteAsync(new CreateRouteRequest { RouteTableId = main, DestinationCidrBlock = "0.0.0.0/0", NatGatewayId = await NatGatewayAsync(vpcId, igw) }, ct);
        }
        return (igw, main);
    }

    /// <summary>A NAT gateway in a public subnet of its own (10.20.200.0/24, routed to the internet gateway by its own table).</summary>
    public async Task<string> NatGatewayAsync(string vpcId, string igw)
    {
        var ct = TestContext.Current;
        var ec2 = moto.Ec2;
        var publicSubnet = (await ec2.CreateSubnetAsync(new CreateSubnetRequest { VpcId = vpcId, CidrBlock = "10.20.200.0/24", AvailabilityZone = "us-east-1a" }, ct)).Subnet.SubnetId;
        var publicTable = (await ec2.CreateRouteTableAsync(new CreateRouteTableRequest { VpcId = vpcId }, ct)).RouteTable.RouteTableId;
        await ec2.CreateRouteAsync(new CreateRouteRequest { RouteTableId = publicTable, DestinationCidrBlock = "0.0.0.0/0", GatewayId = igw }, ct);
        await ec2.AssociateRouteTableAsync(new AssociateRouteTableRequest { RouteTableId = publicTable, SubnetId = publicSubnet }, ct);
        var eip = (await ec2.AllocateAddressAsync(new AllocateAddressRequest { Domain = DomainType.Vpc }, ct)).AllocationId;
        return (await ec2.CreateNatGatewayAsync(new CreateNatGatewayRequest { SubnetId = publicSubnet, AllocationId = eip }, ct)).NatGateway.NatGatewayId;
    }

    /// <summary>A DB subnet group of two new subnets of <paramref name="vpcId"/> whose own route table sends 0.0.0.0/0 to <paramref name="gatewayId"/>.</summary>
    public async Task<(string Name, IReadOnlyList<string> SubnetIds)> SubnetGroupAsync(string vpcId, string gatewayId, int thirdOctet)
    {
        var ct = TestContext.Current;
        var ec2 = moto.Ec2;
        var table = (await ec2.CreateRouteTableAsync(new CreateRouteTableRequest { VpcId = vpcId }, ct)).RouteTable.RouteTableId;
        await ec2.CreateRouteAsync(new CreateRouteRequest { RouteTableId = table, DestinationCidrBlock = "0.0.0.0/0", GatewayId = gatewayId }, ct);
        List<string> subnets = [];
        foreach (var (octet, zone) in new[] { (thirdOctet, "us-east-1a"), (thirdOctet + 1, "us-east-1b") })
        {
            var subnet = (await ec2.CreateSubnetAsync(new CreateSubnetRequest { VpcId = vpcId, CidrBlock = $"10.20.{octet}.0/24", AvailabilityZone = zone }, ct)).Subnet.SubnetId;
            await ec2.AssociateRouteTableAsync(new AssociateRouteTableRequest { RouteTableId = table, SubnetId = subnet }, ct);
            subnets.Add(subnet);
        }
        var name = UniqueName("public-subnets");
        await moto.RdsQuery.InvokeActionAsync("CreateDBSubnetGroup",
        [
            new("DBSubnetGroupName", name), new("DBSubnetGroupDescription", "test"),
            new("SubnetIds.SubnetIdentifier.1", subnets[0]), new("SubnetIds.SubnetIdentifier.2", subnets[1]),
        ], ct);
        return (name, subnets);
    }

    /// <summary>Plans each step and applies the ones with changes, like the engine after approval. Returns the plans.</summary>
    public static async Task<IReadOnlyList<StepPlan>> RunAsync(IEnumerable<IStepHandler> handlers, Func<string, StepContext> context)
    {
        List<StepPlan> plans = [];
        foreach (var handler in handlers)
        {
            var ctx = context(handler.StepName);
            var plan = await handler.PlanAsync(ctx, TestContext.Current);
            plans.Add(plan);
            if (plan.HasChanges)
            {
                var result = await handler.ApplyAsync(ctx, TestContext.Current);
                Assert.True(result.Outcome == StepOutcome.Done, $"{handler.StepName}: {result.Outcome} {result.Message}");
            }
        }
        return plans;
    }
}

/// <summary>The test's cancellation token (xunit 2 has none; a generous bound keeps a hung moto from hanging CI).</summary>
internal static class TestContext
{
    private static readonly CancellationTokenSource Timeout = new(TimeSpan.FromMinutes(5));
    public static CancellationToken Current => Timeout.Token;
}

/// <summary>Prequel's static IPs for AWS step tests, which run without the Prequel adapter; the same rules as Prequel:StaticIps.</summary>
public sealed class FixedPrequelEgress(params string[] staticIps) : IPrequelEgress
{
    public IReadOnlyList<IPAddress> StaticIps()
    {
        if (staticIps.Length == 0)
            throw new StepFailedException("Prequel:StaticIps is not configured: set Prequel's static IPv4 addresses for this account");
        return [.. staticIps.Select(IPAddress.Parse).Distinct()];
    }
}

/// <summary>One Aurora PostgreSQL cluster seeded in moto: its writer, readers, group and subnet group.</summary>
public sealed record SeededCluster(string ClusterId, string WriterId, IReadOnlyList<string> ReaderIds, SeededDatabase Network);

