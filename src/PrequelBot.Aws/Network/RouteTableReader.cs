using Amazon.EC2;
using Amazon.EC2.Model;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Aws.Network;

/// <summary>
/// Reads where subnets send <c>0.0.0.0/0</c>: each subnet's explicitly associated route table, else the VPC's main
/// table (https://docs.aws.amazon.com/vpc/latest/userguide/RouteTables.html, docs/aws.md). Read-only (DescribeRouteTables).
/// Works on any set of subnets, so an instance, a replica's subnet group and an Aurora cluster share it.
/// </summary>
public static class RouteTableReader
{
    /// <summary>One <see cref="SubnetRoute"/> per subnet, in the order given.</summary>
    public static async Task<IReadOnlyList<SubnetRoute>> ReadAsync(IAmazonEC2 ec2, string vpcId, IReadOnlyList<string> subnetIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        ArgumentNullException.ThrowIfNull(subnetIds);
        if (subnetIds.Count == 0)
        {
            return [];
        }
        var explicitTables = await DescribeAsync(ec2, [new Filter("association.subnet-id", [.. subnetIds])], cancellationToken).ConfigureAwait(false);
        RouteTable? main = null;
        if (subnetIds.Any(s => TableOf(explicitTables, s) is null))
        {
            main = (await DescribeAsync(ec2, [new Filter("vpc-id", [vpcId]), new Filter("association.main", ["true"])], cancellationToken).ConfigureAwait(false))
                is [var first, ..] ? first : null;
        }
        return [.. subnetIds.Select(subnet =>
        {
            var table = TableOf(explicitTables, subnet);
            var isMain = table is null;
            table ??= main;
            var route = (table?.Routes ?? []).FirstOrDefault(r => r.DestinationCidrBlock == "0.0.0.0/0");
            return new SubnetRoute
            {
                SubnetId = subnet,
                RouteTableId = table?.RouteTableId,
                MainTable = isMain && table is not null,
                DefaultRouteTarget = route is null ? null : Target(route),
                Blackhole = route?.State == RouteState.Blackhole,
            };
        })];
    }

    private static RouteTable? TableOf(IReadOnlyList<RouteTable> tables, string subnetId) =>
        tables.FirstOrDefault(t => (t.Associations ?? []).Any(a => a.SubnetId == subnetId));

    /// <summary>The id the route sends traffic to (never an ARN: a core network route reads "core network").</summary>
    private static string Target(Route route) =>
        route.GatewayId ?? route.NatGatewayId ?? route.TransitGatewayId ?? route.NetworkInterfaceId ?? route.InstanceId
        ?? route.VpcPeeringConnectionId ?? route.EgressOnlyInternetGatewayId ?? route.CarrierGatewayId ?? route.LocalGatewayId
        ?? (route.CoreNetworkArn is not null ? "core network" : "unknown target");

    private static async Task<IReadOnlyList<RouteTable>> DescribeAsync(IAmazonEC2 ec2, List<Filter> filters, CancellationToken cancellationToken)
    {
        List<RouteTable> tables = [];
        string? nextToken = null;
        do
        {
            var page = await ec2.DescribeRouteTablesAsync(new DescribeRouteTablesRequest { Filters = filters, NextToken = nextToken }, cancellationToken).ConfigureAwait(false);
            tables.AddRange(page.RouteTables ?? []);
            nextToken = page.NextToken;
        }
        while (!string.IsNullOrEmpty(nextToken));
        return tables;
    }
}
