using System.Net;
using PrequelBot.Aws.Planning;

namespace PrequelBot.Aws.Tests.Planning;

public class SecurityGroupPlannerTests
{
    private static readonly IPAddress Prequel1 = IPAddress.Parse("35.192.85.117");
    private static readonly IPAddress Prequel2 = IPAddress.Parse("34.66.1.2");

    private static SecurityGroupPlan Plan(IReadOnlyList<IngressRule> rules, string? chosen = null, DedicatedGroup? dedicated = null, params IPAddress[] ips) =>
        SecurityGroupPlanner.Plan("orders", "vpc-1", 5432, ips.Length == 0 ? [Prequel1] : ips, ["sg-0abc", "sg-0def"], rules, chosen, dedicated);

    [Fact]
    public void Without_rules_a_dedicated_group_is_created_with_one_slash_32_rule_per_ip_and_added_to_the_target()
    {
        var plan = Plan([], ips: [Prequel1, Prequel2]);

        Assert.Equal(
        [
            "create security group prequelbot-orders in vpc-1 (tagged managed-by=prequelbot, prequelbot:target=orders; inbound rules below only, no outbound rules)",
            "add inbound TCP 5432 from 34.66.1.2/32 to prequelbot-orders",
            "add inbound TCP 5432 from 35.192.85.117/32 to prequelbot-orders",
            "add prequelbot-orders to orders's security groups (ModifyDBInstance VpcSecurityGroupIds = sg-0abc, sg-0def + prequelbot-orders, applied immediately)",
        ], plan.ChangeLines);
        Assert.Equal("orders's own groups (sg-0abc, sg-0def) are not changed; prequelbot-orders is used by orders only.", plan.Note);
    }

    [Theory]
    [InlineData("tcp", 5432, 5432, "35.192.85.117/32")]
    [InlineData("tcp", 5432, 5432, "0.0.0.0/0")]
    [InlineData("tcp", 5432, 5432, "35.192.0.0/16")]
    [InlineData("6", 5000, 6000, "35.192.85.0/24")]
    [InlineData("-1", null, null, "35.192.85.117/32")]
    [InlineData("-1", -1, -1, "0.0.0.0/0")]
    public void A_rule_in_any_group_of_the_target_that_covers_the_ip_and_port_means_nothing_to_do(string protocol, int? from, int? to, string cidr)
    {
        var plan = Plan([new IngressRule("sg-0def", protocol, from, to, [cidr])]);

        Assert.False(plan.HasChanges);
        Assert.Contains("sg-0def", Assert.Single(plan.Covered), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp", 5433, 5433, "0.0.0.0/0")]
    [InlineData("udp", 5432, 5432, "0.0.0.0/0")]
    [InlineData("tcp", 5432, 5432, "35.192.85.118/32")]
    [InlineData("tcp", 5432, 5432, "10.0.0.0/8")]
    [InlineData("tcp", 5432, 5432, "::/0")]
    public void A_rule_that_misses_the_protocol_port_or_address_does_not_count(string protocol, int? from, int? to, string cidr)
    {
        var plan = Plan([new IngressRule("sg-0abc", protocol, from, to, [cidr])]);

        Assert.Equal([Prequel1], plan.ToAdd);
    }

    [Fact]
    public void Only_the_uncovered_ips_get_a_rule()
    {
        var plan = Plan([new IngressRule("sg-0abc", "tcp", 5432, 5432, ["35.192.85.117/32"])], ips: [Prequel1, Prequel2]);

        Assert.Equal([Prequel2], plan.ToAdd);
    }

    [Fact]
    public void A_dedicated_group_found_by_its_tags_is_reused_and_only_attached_when_it_already_holds_the_rules()
    {
        var dedicated = new DedicatedGroup("sg-0bot", [new IngressRule("sg-0bot", "tcp", 5432, 5432, ["35.192.85.117/32"])], Attached: false);

        var plan = Plan([], dedicated: dedicated, ips: [Prequel1, Prequel2]);

        Assert.Equal(
        [
            "add inbound TCP 5432 from 34.66.1.2/32 to prequelbot-orders (sg-0bot)",
            "add prequelbot-orders to orders's security groups (ModifyDBInstance VpcSecurityGroupIds = sg-0abc, sg-0def + prequelbot-orders, applied immediately)",
        ], plan.ChangeLines);
        Assert.Equal("sg-0bot", plan.RulesGroupId);
    }

    [Fact]
    public void An_attached_dedicated_group_gets_only_the_missing_rule()
    {
        var dedicated = new DedicatedGroup("sg-0def", [], Attached: true);

        var plan = Plan([new IngressRule("sg-0def", "tcp", 5432, 5432, ["35.192.85.117/32"])], dedicated: dedicated, ips: [Prequel1, Prequel2]);

        Assert.Equal(["add inbound TCP 5432 from 34.66.1.2/32 to prequelbot-orders (sg-0def)"], plan.ChangeLines);
    }

    [Fact]
    public void An_unattached_dedicated_group_is_left_alone_when_the_target_admits_every_ip_already()
    {
        var dedicated = new DedicatedGroup("sg-0bot", [], Attached: false);

        var plan = Plan([new IngressRule("sg-0abc", "tcp", 5432, 5432, ["0.0.0.0/0"])], dedicated: dedicated);

        Assert.False(plan.HasChanges);
    }

    [Fact]
    public void A_chosen_group_of_the_target_gets_the_rules_and_nothing_is_created_or_attached()
    {
        var plan = Plan([], chosen: "sg-0def", dedicated: new DedicatedGroup("sg-0bot", [], false));

        Assert.Equal(["add inbound TCP 5432 from 35.192.85.117/32 to sg-0def"], plan.ChangeLines);
        Assert.Contains("every resource that uses sg-0def is opened", plan.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chosen_group_the_target_does_not_have_is_refused_with_the_target_groups()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Plan([], chosen: "sg-0999"));

        Assert.Equal("sg-0999 is not one of orders's security groups (sg-0abc, sg-0def); --security-group must name a group the target already has", error.Message);
    }
}
