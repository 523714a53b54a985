using System.Net;
using PrequelBot.Aws.Planning;

namespace PrequelBot.Aws.Tests.Planning;

public class NetworkAclPlannerTests
{
    private static readonly AclEntry DefaultInboundDeny = new(32767, Egress: false, Allow: false, "-1", "0.0.0.0/0");
    private static readonly AclEntry DefaultOutboundDeny = new(32767, Egress: true, Allow: false, "-1", "0.0.0.0/0");

    private static WantedAclRule Inbound(string ip, int port = 5432) => new(false, new IPNetwork(IPAddress.Parse(ip), 32), port, port);

    private static readonly WantedAclRule Outbound = new(true, new IPNetwork(IPAddress.Any, 0), 1024, 65535);

    [Fact]
    public void Default_vpc_acl_allowing_everything_needs_nothing()
    {
        AclEntry[] entries = [new(100, false, true, "-1", "0.0.0.0/0"), new(100, true, true, "-1", "0.0.0.0/0"), DefaultInboundDeny, DefaultOutboundDeny];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117"), Outbound]);

        Assert.Empty(plan.ToCreate);
        Assert.Equal(2, plan.Covered.Count);
    }

    [Fact]
    public void An_acl_with_only_the_default_deny_gets_entries_from_100()
    {
        var plan = NetworkAclPlanner.Plan("acl-1", [DefaultInboundDeny, DefaultOutboundDeny], [Inbound("35.192.85.117"), Outbound]);

        Assert.Equal(["add to acl-1 rule 100: inbound allow TCP 5432 from 35.192.85.117/32", "add to acl-1 rule 100: outbound allow TCP 1024-65535 to 0.0.0.0/0"],
            plan.ToCreate.Select(e => e.Describe("acl-1")));
    }

    [Fact]
    public void New_entries_follow_the_last_allow_in_steps_of_ten()
    {
        AclEntry[] entries = [new(100, false, true, "6", "0.0.0.0/0", 443, 443), new(110, false, true, "6", "10.0.0.0/16", 5432, 5432)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117"), Inbound("34.66.1.2")]);

        Assert.Equal([120, 130], plan.ToCreate.Select(e => e.RuleNumber));
    }

    [Fact]
    public void A_deny_all_below_existing_rules_pushes_new_entries_below_it()
    {
        AclEntry[] entries = [new(10, false, true, "6", "10.0.0.0/8", 22, 22), new(20, false, true, "6", "10.0.0.0/8", 443, 443), new(50, false, false, "-1", "0.0.0.0/0")];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117")]);

        Assert.Equal(30, Assert.Single(plan.ToCreate).RuleNumber);
    }

    [Fact]
    public void A_deny_at_the_first_number_leaves_the_highest_free_number_below_it()
    {
        AclEntry[] entries = [new(5, false, false, "6", "35.192.0.0/16", 0, 65535)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117"), Inbound("35.192.85.118")]);

        Assert.Equal([4, 3], plan.ToCreate.Select(e => e.RuleNumber));
    }

    [Fact]
    public void When_tens_are_taken_below_the_deny_the_highest_free_number_is_used()
    {
        AclEntry[] entries = [new(90, false, true, "6", "10.0.0.0/8", 22, 22), new(100, false, false, "-1", "0.0.0.0/0")];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117")]);

        Assert.Equal(99, Assert.Single(plan.ToCreate).RuleNumber);
    }

    [Fact]
    public void A_deny_that_does_not_overlap_is_ignored()
    {
        AclEntry[] entries = [new(50, false, false, "6", "203.0.113.0/24", 0, 65535), new(60, false, false, "17", "0.0.0.0/0", 0, 65535), new(70, false, false, "6", "0.0.0.0/0", 22, 22)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117")]);

        Assert.Equal(80, Assert.Single(plan.ToCreate).RuleNumber);
    }

    [Fact]
    public void An_allow_before_a_deny_covers_the_rule()
    {
        AclEntry[] entries = [new(10, false, true, "6", "35.192.0.0/16", 5000, 6000), new(20, false, false, "-1", "0.0.0.0/0")];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117")]);

        Assert.Empty(plan.ToCreate);
    }

    [Fact]
    public void An_allow_after_a_matching_deny_does_not_count()
    {
        AclEntry[] entries = [new(10, false, false, "-1", "0.0.0.0/0"), new(20, false, true, "6", "35.192.85.117/32", 5432, 5432)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117")]);

        Assert.Equal(9, Assert.Single(plan.ToCreate).RuleNumber);
    }

    [Fact]
    public void A_partial_allow_is_skipped()
    {
        AclEntry[] entries = [new(100, true, true, "6", "0.0.0.0/0", 1024, 2048), new(110, true, true, "6", "10.0.0.0/8", 1024, 65535)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Outbound]);

        Assert.Equal(120, Assert.Single(plan.ToCreate).RuleNumber);
    }

    [Fact]
    public void Inbound_and_outbound_numbers_are_independent()
    {
        AclEntry[] entries = [new(200, false, true, "6", "10.0.0.0/8", 22, 22)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117"), Outbound]);

        Assert.Equal([(false, 210), (true, 100)], plan.ToCreate.Select(e => (e.Rule.Egress, e.RuleNumber)));
    }

    [Fact]
    public void Ipv6_entries_are_ignored()
    {
        AclEntry[] entries = [new(10, false, false, "-1", null)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117")]);

        Assert.Equal(20, Assert.Single(plan.ToCreate).RuleNumber);
    }

    [Fact]
    public void No_free_number_below_the_deny_fails_with_a_message()
    {
        AclEntry[] entries = [new(1, false, true, "6", "10.0.0.0/8", 22, 22), new(2, false, false, "-1", "0.0.0.0/0")];

        var error = Assert.Throws<InvalidOperationException>(() => NetworkAclPlanner.Plan("acl-1", entries, [Inbound("35.192.85.117")]));

        Assert.Contains("no free inbound rule number below 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Numbers_near_the_top_stay_below_the_default_rule()
    {
        var number = NetworkAclPlanner.PickRuleNumber(new HashSet<int> { 32760 }, NetworkAclPlanner.DefaultRuleNumber);

        Assert.Equal(32766, number);
    }

    private static WantedAclRule OutboundTo(string ip) => new(true, new IPNetwork(IPAddress.Parse(ip), 32), 1024, 65535);

    [Fact]
    public void A_deny_for_other_addresses_does_not_constrain_the_number_of_a_slash_32_entry()
    {
        AclEntry[] entries = [new(50, true, false, "-1", "198.51.100.0/24"), new(70, true, true, "6", "10.0.0.0/8", 443, 443)];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [OutboundTo("35.192.85.117")]);

        var entry = Assert.Single(plan.ToCreate);
        Assert.Equal(80, entry.RuleNumber);
        Assert.Null(entry.OverriddenDeny);
        Assert.Equal("add to acl-1 rule 80: outbound allow TCP 1024-65535 to 35.192.85.117/32", entry.Describe("acl-1"));
    }

    [Fact]
    public void An_entry_below_a_deny_that_matches_the_ip_says_it_overrides_that_deny_for_the_ip_only()
    {
        AclEntry[] entries = [new(50, true, false, "6", "35.192.0.0/16", 0, 65535), new(100, true, true, "-1", "0.0.0.0/0")];

        var entry = Assert.Single(NetworkAclPlanner.Plan("acl-1", entries, [OutboundTo("35.192.85.117")]).ToCreate);

        Assert.Equal(
            "add to acl-1 rule 10: outbound allow TCP 1024-65535 to 35.192.85.117/32, ahead of rule 50 (deny TCP 0-65535 to 35.192.0.0/16), which denies it today; only this /32 is affected",
            entry.Describe("acl-1"));
    }

    [Fact]
    public void Each_static_ip_is_judged_on_its_own()
    {
        AclEntry[] entries = [new(60, true, false, "-1", "35.192.0.0/16"), new(100, true, true, "-1", "0.0.0.0/0")];

        var plan = NetworkAclPlanner.Plan("acl-1", entries, [OutboundTo("35.192.85.117"), OutboundTo("34.66.12.34")]);

        Assert.Equal("35.192.85.117/32", Assert.Single(plan.ToCreate).Rule.Cidr.ToString());
        Assert.Contains("acl-1 rule 100 already allows outbound allow TCP 1024-65535 to 34.66.12.34/32", plan.Covered);
    }

    [Theory]
    [InlineData("198.51.100.7", 443, 50)]
    [InlineData("35.192.85.117", 40000, 55)]
    [InlineData("35.192.85.117", 80, 60)]
    [InlineData("8.8.8.8", 40000, 100)]
    public void Decide_applies_the_lowest_numbered_matching_entry(string ip, int port, int rule)
    {
        AclEntry[] entries =
        [
            new(100, true, true, "-1", "0.0.0.0/0"), new(60, true, false, "-1", "35.192.0.0/16"),
            new(55, true, true, "6", "35.192.85.117/32", 1024, 65535), new(50, true, false, "-1", "198.51.100.0/24"),
            new(10, false, false, "-1", "0.0.0.0/0"), new(20, true, false, "17", "0.0.0.0/0", 0, 65535), new(30, true, false, "-1", null),
        ];

        Assert.Equal(rule, NetworkAclPlanner.Decide(entries, egress: true, IPAddress.Parse(ip), port)?.RuleNumber);
    }

    [Fact]
    public void Decide_falls_to_the_default_deny_when_nothing_matches()
    {
        Assert.Null(NetworkAclPlanner.Decide([new(10, false, true, "6", "10.0.0.0/8", 5432, 5432)], egress: false, IPAddress.Parse("35.192.85.117"), 5432));
    }
}
