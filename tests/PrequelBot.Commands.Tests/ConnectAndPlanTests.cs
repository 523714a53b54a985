using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

public class ConnectAndPlanTests
{
    [Fact]
    public void Connect_with_only_a_database_takes_the_contract_defaults()
    {
        var command = ParseAssert.Parses<ConnectCommand>("connect mydb");

        Assert.Equal("mydb", command.Database);
        Assert.False(command.Options.Replica);
        Assert.Null(command.Options.ReplicaClass);
        Assert.Null(command.Options.ReplicaId);
        Assert.Equal(["public"], command.Options.Schemas);
        Assert.Empty(command.Options.Tables);
        Assert.Equal("prequel_reader", command.Options.User);
        Assert.Null(command.Options.SourceName);
    }

    [Fact]
    public void Plan_with_only_a_database_takes_the_contract_defaults()
    {
        var command = ParseAssert.Parses<PlanCommand>("plan orders-db");

        Assert.Equal("orders-db", command.Database);
        Assert.Equal(new OnboardingOptions().Schemas, command.Options.Schemas);
        Assert.Equal(OnboardingOptions.DefaultUser, command.Options.User);
    }

    [Theory]
    [InlineData("connect")]
    [InlineData("plan")]
    public void Every_option_is_read(string verb)
    {
        var text = $"{verb} mydb --replica --replica-class db.r6g.2xlarge --replica-id mydb-copy "
                   + "--schemas public,sales --tables public.orders,sales.invoices --user analytics_ro --source-name Orders EU";

        var options = verb == "connect"
            ? ParseAssert.Parses<ConnectCommand>(text).Options
            : ParseAssert.Parses<PlanCommand>(text).Options;

        Assert.True(options.Replica);
        Assert.Equal("db.r6g.2xlarge", options.ReplicaClass);
        Assert.Equal("mydb-copy", options.ReplicaId);
        Assert.Equal(["public", "sales"], options.Schemas);
        Assert.Equal([new TableName("public", "orders"), new TableName("sales", "invoices")], options.Tables);
        Assert.Equal("analytics_ro", options.User);
        Assert.Equal("Orders EU", options.SourceName);
    }

    [Fact]
    public void Equals_form_reads_the_same_values_as_the_spaced_form()
    {
        var spaced = ParseAssert.Parses<ConnectCommand>(
            "connect mydb --replica --replica-class db.t4g.medium --replica-id r1 --schemas a,b --tables a.t --user u1 --source-name Src");

        var equals = ParseAssert.Parses<ConnectCommand>(
            "connect mydb --replica --replica-class=db.t4g.medium --replica-id=r1 --schemas=a,b --tables=a.t --user=u1 --source-name=Src");

        Assert.Equal(spaced.Database, equals.Database);
        Assert.Equal(spaced.Options.ReplicaClass, equals.Options.ReplicaClass);
        Assert.Equal(spaced.Options.ReplicaId, equals.Options.ReplicaId);
        Assert.Equal(spaced.Options.Schemas, equals.Options.Schemas);
        Assert.Equal(spaced.Options.Tables, equals.Options.Tables);
        Assert.Equal(spaced.Options.User, equals.Options.User);
        Assert.Equal(spaced.Options.SourceName, equals.Options.SourceName);
    }

    [Fact]
    public void Options_may_come_before_the_database_name()
    {
        var command = ParseAssert.Parses<ConnectCommand>("connect --user reader1 mydb");

        Assert.Equal("mydb", command.Database);
        Assert.Equal("reader1", command.Options.User);
    }

    [Theory]
    [InlineData("CONNECT MyDB", "mydb")]
    [InlineData("Connect Orders-DB-1", "orders-db-1")]
    [InlineData("connect mydb --REPLICA --Replica-Class DB.T4G.MEDIUM --REPLICA-ID Copy-1", "mydb")]
    public void Command_words_options_and_rds_names_are_case_insensitive(string text, string database)
    {
        var command = ParseAssert.Parses<ConnectCommand>(text);

        Assert.Equal(database, command.Database);
        if (command.Options.Replica)
        {
            Assert.Equal("db.t4g.medium", command.Options.ReplicaClass);
            Assert.Equal("copy-1", command.Options.ReplicaId);
        }
    }

    [Fact]
    public void Tables_without_schemas_default_the_schemas_to_the_distinct_table_schemas()
    {
        var command = ParseAssert.Parses<ConnectCommand>("connect mydb --tables sales.orders,hr.people,sales.invoices");

        Assert.Equal(["sales", "hr"], command.Options.Schemas);
        Assert.Equal(3, command.Options.Tables.Count);
    }

    [Fact]
    public void A_table_outside_the_explicit_schemas_is_refused()
    {
        var error = ParseAssert.Fails("connect mydb --schemas public --tables sales.orders");

        Assert.Contains("sales.orders", error, StringComparison.Ordinal);
        Assert.Contains("--schemas", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_schemas_and_tables_are_kept_once_in_the_order_given()
    {
        var command = ParseAssert.Parses<ConnectCommand>("connect mydb --schemas sales,public,sales --tables sales.a,sales.a");

        Assert.Equal(["sales", "public"], command.Options.Schemas);
        Assert.Equal([new TableName("sales", "a")], command.Options.Tables);
    }

    [Fact]
    public void A_list_split_after_a_comma_is_read_as_one_list()
    {
        var command = ParseAssert.Parses<ConnectCommand>("connect mydb --schemas public, sales --user u");

        Assert.Equal(["public", "sales"], command.Options.Schemas);
        Assert.Equal("u", command.Options.User);
    }

    [Fact]
    public void A_source_name_with_spaces_runs_until_the_next_option()
    {
        var command = ParseAssert.Parses<ConnectCommand>("connect mydb --source-name Orders EU v2.1 --user u");

        Assert.Equal("Orders EU v2.1", command.Options.SourceName);
        Assert.Equal("u", command.Options.User);
    }

    [Theory]
    [InlineData("connect mydb --replica-class db.t4g.medium")]
    [InlineData("connect mydb --replica-id copy")]
    public void Replica_settings_without_replica_are_refused(string text)
    {
        var error = ParseAssert.Fails(text);

        Assert.Contains("add --replica", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect")]
    [InlineData("plan")]
    [InlineData("connect --replica")]
    public void A_missing_database_name_is_named(string text)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith("Missing database name. Usage: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_option_is_named_with_a_suggestion_and_the_usage()
    {
        var error = ParseAssert.Fails("connect mydb --replcia");

        Assert.StartsWith("Unknown option --replcia for connect (did you mean --replica?). Try: connect <db> [--replica]", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect mydb --user a --user b", "--user given twice")]
    [InlineData("connect mydb --replica --replica", "--replica given twice")]
    [InlineData("connect mydb --schemas a --schemas=b", "--schemas given twice")]
    [InlineData("plan mydb --source-name A --source-name B", "--source-name given twice")]
    public void A_repeated_option_is_refused(string text, string expected)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect mydb --user")]
    [InlineData("connect mydb --user=")]
    [InlineData("connect mydb --user --replica")]
    [InlineData("connect mydb --schemas")]
    [InlineData("connect mydb --tables")]
    [InlineData("connect mydb --replica --replica-class")]
    [InlineData("connect mydb --replica --replica-id")]
    [InlineData("connect mydb --source-name")]
    public void A_missing_option_value_is_refused(string text)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith("Missing value for --", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flag_given_a_value_is_refused()
    {
        var error = ParseAssert.Fails("connect mydb --replica=yes");

        Assert.StartsWith("--replica takes no value", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_database_name_is_an_unexpected_argument()
    {
        var error = ParseAssert.Fails("connect mydb otherdb");

        Assert.StartsWith("Unexpected argument 'otherdb'", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect 1db", "must start with a letter")]
    [InlineData("connect my_db", "may contain only letters, digits and hyphens (found '_')")]
    [InlineData("connect mydb-", "must not end with a hyphen")]
    [InlineData("connect my--db", "must not contain two consecutive hyphens")]
    public void An_invalid_database_name_names_the_broken_rds_rule(string text, string rule)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith("Invalid database name", error, StringComparison.Ordinal);
        Assert.Contains(rule, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_database_name_longer_than_63_characters_is_refused()
    {
        var error = ParseAssert.Fails("connect a" + new string('b', 63));

        Assert.Contains("at most 63 characters", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--schemas 1abc", "must start with a letter or an underscore")]
    [InlineData("--schemas Sales", "must be lower case")]
    [InlineData("--schemas a,,b", "Empty schema name")]
    [InlineData("--schemas pg_catalog", "system schema")]
    [InlineData("--schemas information_schema", "system schema")]
    [InlineData("--tables orders", "must be written schema.table")]
    [InlineData("--tables a.b.c", "must be written schema.table")]
    [InlineData("--tables public.Orders", "must be lower case")]
    [InlineData("--tables public.or-ders", "found '-'")]
    [InlineData("--user postgres", "reserved or built-in role")]
    [InlineData("--user public", "reserved or built-in role")]
    [InlineData("--user rdsadmin", "reserved or built-in role")]
    [InlineData("--user pg_monitor", "reserved or built-in role")]
    [InlineData("--user rds_superuser", "reserved or built-in role")]
    [InlineData("--user a-b", "found '-'")]
    [InlineData("--replica --replica-class t4g.medium", "db.<family>.<size>")]
    [InlineData("--replica --replica-class db.t4g", "db.<family>.<size>")]
    [InlineData("--replica --replica-id 9copy", "must start with a letter")]
    [InlineData("--source-name a/b", "found '/'")]
    public void An_invalid_option_value_names_the_broken_rule(string options, string rule)
    {
        var error = ParseAssert.Fails($"connect mydb {options}");

        Assert.Contains(rule, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_postgres_name_of_63_characters_is_accepted_and_64_is_refused()
    {
        var longest = "u" + new string('x', 62);

        var command = ParseAssert.Parses<ConnectCommand>($"connect mydb --user {longest}");
        var error = ParseAssert.Fails($"connect mydb --user {longest}x");

        Assert.Equal(longest, command.Options.User);
        Assert.Contains("at most 63 characters", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_source_name_of_101_characters_is_refused()
    {
        var error = ParseAssert.Fails("connect mydb --source-name " + new string('s', 101));

        Assert.Contains("at most 100 characters", error, StringComparison.Ordinal);
    }
}
