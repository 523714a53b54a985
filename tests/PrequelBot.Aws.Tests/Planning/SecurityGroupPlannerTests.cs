using System.Net;
using PrequelBot.Aws.Planning;

namespace PrequelBot.Aws.Tests.Planning;

public class SecurityGroupPlannerTests
{
    private static readonly IPAddress Prequel1 = IPAddress.Parse("35.192.85.117");
    private static readonly IPAddress Prequel2 = IPAddress.Parse("34.66.1.2");

    [Fact]
    public void Without_rules_every_ip_gets_a_slash_32_rule_on_the_first_group()
    {
        var plan = SecurityGroupPlanner.Plan("sg-0abc", 5432, [Prequel1, Prequel2], []);

        Assert.Equal(["add inbound TCP 5432 from 34.66.1.2/32 to sg-0abc", "add inbound TCP 5432 from 35.192.85.117/32 to sg-0abc"], plan.ChangeLines);
    }

    [Theory]
    [InlineData("tcp", 5432, 5432, "35.192.85.117/32")]
    [InlineData("tcp", 5432, 5432, "0.0.0.0/0")]
    [InlineData("tcp", 5432, 5432, "35.192.0.0/16")]
    [InlineData("6", 5000, 6000, "35.192.85.0/24")]
    [InlineData("-1", null, null, "35.192.85.117/32")]
    [InlineData("-1", -1, -1, "0.0.0.0/0")]
    public void A_rule_that_covers_the_ip_and_port_means_nothing_to_add(string protocol, int? from, int? to, string cidr)
    {
        var rules = new[] { new IngressRule("sg-other", protocol, from, to, [cidr]) };

        var plan = SecurityGroupPlanner.Plan("sg-0abc", 5432, [Prequel1], rules);

        Assert.Empty(plan.ToAdd);
        Assert.Contains("sg-other", Assert.Single(plan.Covered), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp", 5433, 5433, "0.0.0.0/0")]
    [InlineData("udp", 5432, 5432, "0.0.0.0/0")]
    [InlineData("tcp", 5432, 5432, "35.192.85.118/32")]
    [InlineData("tcp", 5432, 5432, "10.0.0.0/8")]
    [InlineData("tcp", 5432, 5432, "::/0")]
    public void A_rule_that_misses_the_protocol_port_or_address_does_not_count(string protocol, int? from, int? to, string cidr)
    {
        var rules = new[] { new IngressRule("sg-0abc", protocol, from, to, [cidr]) };

        var plan = SecurityGroupPlanner.Plan("sg-0abc", 5432, [Prequel1], rules);

        Assert.Equal([Prequel1], plan.ToAdd);
    }

    [Fact]
    public void Only_the_uncovered_ips_are_added()
    {
        var rules = new[] { new IngressRule("sg-0abc", "tcp", 5432, 5432, ["35.192.85.117/32"]) };

        var plan = SecurityGroupPlanner.Plan("sg-0abc", 5432, [Prequel1, Prequel2], rules);

        Assert.Equal([Prequel2], plan.ToAdd);
    }
}
