using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

public class IdentifiersTests
{
    [Theory]
    [InlineData("a", true)]
    [InlineData("_x", true)]
    [InlineData("prequel_reader", true)]
    [InlineData("a1_2", true)]
    [InlineData("1a", false)]
    [InlineData("A", false)]
    [InlineData("a-b", false)]
    [InlineData("a b", false)]
    [InlineData("a$", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Postgres_identifiers_follow_the_lower_case_rule(string? value, bool valid)
    {
        Assert.Equal(valid, Identifiers.IsPostgresIdentifier(value));
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("mydb", true)]
    [InlineData("my-db-1", true)]
    [InlineData("a-1-b", true)]
    [InlineData("1db", false)]
    [InlineData("-db", false)]
    [InlineData("db-", false)]
    [InlineData("d--b", false)]
    [InlineData("my_db", false)]
    [InlineData("MyDb", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Rds_instance_identifiers_follow_the_aws_rules(string? value, bool valid)
    {
        Assert.Equal(valid, Identifiers.IsRdsInstanceIdentifier(value));
    }

    [Fact]
    public void Rds_instance_identifiers_are_at_most_63_characters()
    {
        Assert.True(Identifiers.IsRdsInstanceIdentifier("a" + new string('1', 62)));
        Assert.False(Identifiers.IsRdsInstanceIdentifier("a" + new string('1', 63)));
    }

    [Theory]
    [InlineData("db.t4g.medium", true)]
    [InlineData("db.r6g.2xlarge", true)]
    [InlineData("db.x2iedn.16xlarge", true)]
    [InlineData("db.serverless", false)]
    [InlineData("t4g.medium", false)]
    [InlineData("db.t4g.medium.extra", false)]
    [InlineData("db..medium", false)]
    [InlineData("DB.T4G.MEDIUM", false)]
    public void Instance_classes_look_like_db_family_size(string value, bool valid)
    {
        Assert.Equal(valid, Identifiers.IsInstanceClass(value));
    }

    [Theory]
    [InlineData("ob-abcd", true)]
    [InlineData("ob-1a2b3c4d5e6f", true)]
    [InlineData("ob-abc", false)]
    [InlineData("ob-1a2b3c4d5e6f7", false)]
    [InlineData("ob-ABCD", false)]
    [InlineData("ob_abcd", false)]
    [InlineData("abcd", false)]
    public void Onboarding_ids_are_ob_and_four_to_twelve_characters(string value, bool valid)
    {
        Assert.Equal(valid, Identifiers.IsOnboardingId(value));
    }

    [Theory]
    [InlineData("Orders", true)]
    [InlineData("Orders EU v2.1", true)]
    [InlineData("a_b-c.d", true)]
    [InlineData(" Orders", false)]
    [InlineData("Orders ", false)]
    [InlineData("Orders/EU", false)]
    [InlineData("Orders\tEU", false)]
    [InlineData("", false)]
    public void Source_names_are_letters_digits_spaces_and_a_few_marks(string value, bool valid)
    {
        Assert.Equal(valid, Identifiers.IsSourceName(value));
    }

    [Theory]
    [InlineData("prequel_reader", null)]
    [InlineData("postgres", "reserved")]
    [InlineData("pg_read_all_data", "reserved")]
    [InlineData("rds_superuser", "reserved")]
    [InlineData("current_user", "reserved")]
    public void Role_names_exclude_built_in_roles(string value, string? problem)
    {
        var actual = Identifiers.RoleNameProblem(value);

        if (problem is null)
        {
            Assert.Null(actual);
        }
        else
        {
            Assert.Contains(problem, actual, StringComparison.Ordinal);
        }
    }
}
