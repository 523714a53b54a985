using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

/// <summary><c>--replica-subnet-group</c> and <c>--security-group</c>.</summary>
public class NetworkOptionTests
{
    [Theory]
    [InlineData("connect")]
    [InlineData("plan")]
    public void Both_options_are_read_and_lower_cased(string verb)
    {
        var text = $"{verb} mydb --replica --replica-subnet-group Public-DB_subnets.1 --security-group SG-0ABC1234DEF567890";

        var options = verb == "connect" ? ParseAssert.Parses<ConnectCommand>(text).Options : ParseAssert.Parses<PlanCommand>(text).Options;

        Assert.Equal("public-db_subnets.1", options.ReplicaSubnetGroup);
        Assert.Equal("sg-0abc1234def567890", options.SecurityGroupId);
    }

    [Fact]
    public void Without_them_the_replica_keeps_the_source_subnet_group_and_the_rules_go_to_a_dedicated_group()
    {
        var options = ParseAssert.Parses<ConnectCommand>("connect mydb --replica").Options;

        Assert.Null(options.ReplicaSubnetGroup);
        Assert.Null(options.SecurityGroupId);
    }

    [Fact]
    public void The_equals_form_works_and_a_short_group_id_is_accepted()
    {
        var options = ParseAssert.Parses<ConnectCommand>("connect mydb --replica --replica-subnet-group=public-subnets --security-group=sg-1a2b3c4d").Options;

        Assert.Equal(("public-subnets", "sg-1a2b3c4d"), (options.ReplicaSubnetGroup, options.SecurityGroupId));
    }

    [Fact]
    public void A_replica_subnet_group_without_replica_is_refused()
    {
        var error = ParseAssert.Fails("connect mydb --replica-subnet-group public-subnets");

        Assert.StartsWith("--replica-subnet-group only applies to a read replica: add --replica.", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect mydb --replica --replica-subnet-group default", "must not be default")]
    [InlineData("connect mydb --replica --replica-subnet-group pub/lic", "may contain only lower-case letters, digits, '.', '_' and '-' (found '/')")]
    [InlineData("connect mydb --replica --replica-subnet-group", "Missing value for --replica-subnet-group")]
    [InlineData("connect mydb --security-group default", "must be a security group id")]
    [InlineData("connect mydb --security-group sg-123", "must be a security group id")]
    [InlineData("connect mydb --security-group sg-0abc1234def56789z", "must be a security group id")]
    [InlineData("connect mydb --security-group sg-1a2b3c4d --security-group sg-1a2b3c4e", "--security-group given twice")]
    public void Bad_values_are_named(string text, string expected)
    {
        var error = ParseAssert.Fails(text);

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_and_help_mention_both_options()
    {
        var error = ParseAssert.Fails("connect mydb --bogus");

        Assert.Contains("[--replica-subnet-group <name>]", error, StringComparison.Ordinal);
        Assert.Contains("[--security-group <sg-id>]", error, StringComparison.Ordinal);
        Assert.Contains("--replica-subnet-group <name>", CommandParser.HelpText, StringComparison.Ordinal);
        Assert.Contains("--security-group <sg-id>", CommandParser.HelpText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sg-1a2b3c4d", true)]
    [InlineData("sg-0abc1234def567890", true)]
    [InlineData("sg-0ABC1234DEF567890", false)]
    [InlineData("sg-1a2b3c4d5", false)]
    [InlineData("1a2b3c4d", false)]
    public void Security_group_ids_follow_the_ec2_form(string id, bool valid)
    {
        Assert.Equal(valid, Identifiers.IsSecurityGroupId(id));
    }

    [Fact]
    public void Subnet_group_names_stop_at_255_characters()
    {
        Assert.True(Identifiers.IsDbSubnetGroupName(new string('a', 255)));
        Assert.Contains("at most 255", Identifiers.DbSubnetGroupNameProblem(new string('a', 256)), StringComparison.Ordinal);
    }
}
