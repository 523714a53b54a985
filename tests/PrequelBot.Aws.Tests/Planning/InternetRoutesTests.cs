using PrequelBot.Aws.Planning;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Aws.Tests.Planning;

public class InternetRoutesTests
{
    private static SubnetRoute Route(string subnet, string? target, bool main = false, bool blackhole = false) =>
        new() { SubnetId = subnet, RouteTableId = main ? "rtb-main" : "rtb-1", MainTable = main, DefaultRouteTarget = target, Blackhole = blackhole };

    [Fact]
    public void One_subnet_with_an_internet_gateway_route_is_enough()
    {
        Assert.Null(InternetRoutes.Problem("orders", "db", "vpc-1", [Route("subnet-a", "nat-1"), Route("subnet-b", "igw-1")]));
    }

    [Theory]
    [InlineData("nat-0abc")]
    [InlineData("tgw-0abc")]
    [InlineData("vgw-0abc")]
    [InlineData("eni-0abc")]
    [InlineData(null)]
    public void Anything_but_an_internet_gateway_is_not_reachable(string? target)
    {
        Assert.NotNull(InternetRoutes.Problem("orders", "db", "vpc-1", [Route("subnet-a", target)]));
    }

    [Fact]
    public void A_blackhole_internet_gateway_route_does_not_count()
    {
        var problem = InternetRoutes.Problem("orders", "db", "vpc-1", [Route("subnet-a", "igw-1", blackhole: true)]);

        Assert.Contains("subnet-a → igw-1 (blackhole) (rtb-1)", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void The_failure_names_every_subnet_and_its_route_target()
    {
        var problem = InternetRoutes.Problem("orders", "db-private", "vpc-1", [Route("subnet-a", "nat-1"), Route("subnet-b", null, main: true)]);

        Assert.Equal(
            "orders would not be reachable from the internet: no subnet of DB subnet group db-private routes 0.0.0.0/0 to an internet gateway " +
            "(subnet-a → nat-1 (rtb-1), subnet-b → no 0.0.0.0/0 route (main table rtb-main)). Nothing was changed. " +
            "Use --replica with --replica-subnet-group <a DB subnet group in vpc-1 whose subnets route to an internet gateway>, or add such a route, then retry.",
            problem);
    }

    [Fact]
    public void Partly_public_subnet_groups_get_a_warning_and_fully_public_ones_none()
    {
        Assert.Equal("subnet-a has no internet gateway route: if RDS moves the instance there (e.g. on a Multi-AZ failover) Prequel cannot reach it.",
            InternetRoutes.PartialWarning([Route("subnet-a", "nat-1"), Route("subnet-b", "igw-1")]));
        Assert.Null(InternetRoutes.PartialWarning([Route("subnet-a", "igw-1"), Route("subnet-b", "igw-1")]));
    }
}
