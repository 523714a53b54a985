using Amazon.EC2.Model;
using PrequelBot.Aws.Tests.Steps;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// Seeds one private PostgreSQL instance and its network in moto through the AWS APIs (copied from the AWS adapter's
/// <c>AwsStepsHarness.SeedAsync</c>, whose calls share one 5-minute token per test process: this suite runs longer).
/// Both subnets use a new custom network ACL with no entries, so every entry afterwards is the bot's, and route
/// 0.0.0.0/0 to an internet gateway (through the VPC's main route table).
/// </summary>
public static class MotoSeed
{
    public static async Task<SeededDatabase> PrivateDatabaseAsync(MotoFixture moto, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(moto);
        var ec2 = moto.Ec2;
        var vpc = (await ec2.CreateVpcAsync(new CreateVpcRequest { CidrBlock = "10.20.0.0/16" }, cancellationToken)).Vpc;
        // Public subnets: the main route table sends 0.0.0.0/0 to an internet gateway, so public-access may proceed.
        var igw = (await ec2.CreateInternetGatewayAsync(new CreateInternetGatewayRequest(), cancellationToken)).InternetGateway.InternetGatewayId;
        await ec2.AttachInternetGatewayAsync(new AttachInternetGatewayRequest { InternetGatewayId = igw, VpcId = vpc.VpcId }, cancellationToken);
        var main = (await ec2.DescribeRouteTablesAsync(new DescribeRouteTablesRequest { Filters = [new Filter("vpc-id", [vpc.VpcId]), new Filter("association.main", ["true"])] }, cancellationToken))
            .RouteTables.Single().RouteTableId;
        await ec2.CreateRouteAsync(new CreateRouteRequest { RouteTableId = main, DestinationCidrBlock = "0.0.0.0/0", GatewayId = igw }, cancellationToken);
        var subnetA = (await ec2.CreateSubnetAsync(new CreateSubnetRequest { VpcId = vpc.VpcId, CidrBlock = "10.20.1.0/24", AvailabilityZone = "us-east-1a" }, cancellationToken)).Subnet;
        var subnetB = (await ec2.CreateSubnetAsync(new CreateSubnetRequest { VpcId = vpc.VpcId, CidrBlock = "10.20.2.0/24", AvailabilityZone = "us-east-1b" }, cancellationToken)).Subnet;
        var sg = await ec2.CreateSecurityGroupAsync(new CreateSecurityGroupRequest { GroupName = AwsStepsHarness.UniqueName("e2e-sg"), Description = "e2e database", VpcId = vpc.VpcId }, cancellationToken);
        var aclId = (await ec2.CreateNetworkAclAsync(new CreateNetworkAclRequest { VpcId = vpc.VpcId }, cancellationToken)).NetworkAcl.NetworkAclId;
        foreach (var subnet in new[] { subnetA, subnetB })
        {
            var current = await ec2.DescribeNetworkAclsAsync(new DescribeNetworkAclsRequest { Filters = [new Filter("association.subnet-id", [subnet.SubnetId])] }, cancellationToken);
            var association = current.NetworkAcls.SelectMany(a => a.Associations ?? []).First(a => a.SubnetId == subnet.SubnetId);
            await ec2.ReplaceNetworkAclAssociationAsync(new ReplaceNetworkAclAssociationRequest { AssociationId = association.NetworkAclAssociationId, NetworkAclId = aclId }, cancellationToken);
        }

        var subnetGroup = AwsStepsHarness.UniqueName("e2e-subnets");
        await moto.RdsQuery.InvokeActionAsync("CreateDBSubnetGroup",
        [
            new("DBSubnetGroupName", subnetGroup), new("DBSubnetGroupDescription", "e2e"),
            new("SubnetIds.SubnetIdentifier.1", subnetA.SubnetId), new("SubnetIds.SubnetIdentifier.2", subnetB.SubnetId),
        ], cancellationToken);
        var instanceId = AwsStepsHarness.UniqueName("e2e-pg");
        await moto.RdsQuery.InvokeActionAsync("CreateDBInstance",
        [
            new("DBInstanceIdentifier", instanceId), new("DBInstanceClass", "db.t3.micro"), new("Engine", "postgres"),
            new("MasterUsername", "admin_user"), new("MasterUserPassword", "not-a-real-secret-1"), new("AllocatedStorage", "20"),
            new("DBSubnetGroupName", subnetGroup), new("VpcSecurityGroupIds.VpcSecurityGroupId.1", sg.GroupId),
            new("PubliclyAccessible", "false"), new("BackupRetentionPeriod", "1"),
        ], cancellationToken);
        return new SeededDatabase(instanceId, vpc.VpcId, sg.GroupId, [subnetA.SubnetId, subnetB.SubnetId], aclId);
    }
}
