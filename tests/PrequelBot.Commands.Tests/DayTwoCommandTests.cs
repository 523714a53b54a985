using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

public class DayTwoCommandTests
{
    [Theory]
    [InlineData("disconnect orders-db", "orders-db", false)]
    [InlineData("Disconnect ORDERS-DB --keep-replica", "orders-db", true)]
    [InlineData("disconnect --keep-replica orders-db", "orders-db", true)]
    public void Disconnect_reads_its_database_and_keep_replica(string text, string database, bool keepReplica)
    {
        var command = ParseAssert.Parses<DisconnectCommand>(text);

        Assert.Equal((database, keepReplica), (command.Database, command.KeepReplica));
    }

    [Theory]
    [InlineData("disconnect orders-db", false)]
    [InlineData("disconnect orders-db --final-snapshot", true)]
    [InlineData("disconnect --FINAL-SNAPSHOT orders-db", true)]
    public void Disconnect_reads_final_snapshot(string text, bool finalSnapshot)
    {
        var command = ParseAssert.Parses<DisconnectCommand>(text);

        Assert.Equal(("orders-db", finalSnapshot, false), (command.Database, command.FinalSnapshot, command.KeepReplica));
    }

    [Theory]
    [InlineData("disconnect orders-db --final-snapshot --keep-replica")]
    [InlineData("disconnect --keep-replica orders-db --final-snapshot")]
    public void Final_snapshot_with_keep_replica_is_refused_in_one_line(string text)
    {
        var error = ParseAssert.Fails(text);

        Assert.Equal("--final-snapshot and --keep-replica cannot be combined: a final snapshot is taken only of a replica that is deleted. Usage: disconnect <db> [--keep-replica | --final-snapshot]", error);
    }

    [Theory]
    [InlineData("connect orders-db --final-snapshot")]
    [InlineData("plan orders-db --final-snapshot")]
    [InlineData("rotate orders-db --final-snapshot")]
    [InlineData("check orders-db --final-snapshot")]
    public void Final_snapshot_belongs_to_disconnect_only(string text)
    {
        var error = ParseAssert.Fails(text);

        Assert.Contains("--final-snapshot", error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("orders-prequel-replica", "orders-prequel-replica-prequel-final-202612021745")]
    [InlineData("A1", "a1-prequel-final-202612021745")]
    public void The_final_snapshot_id_is_the_replica_and_the_utc_minute_and_a_valid_snapshot_identifier(string replica, string expected)
    {
        var id = Identifiers.FinalSnapshotId(replica, new DateTimeOffset(2026, 12, 2, 18, 45, 59, TimeSpan.FromHours(1)));

        Assert.Equal(expected, id);
        Assert.True(Identifiers.IsRdsSnapshotIdentifier(id));
        Assert.True(Identifiers.IsRdsSnapshotIdentifier(Identifiers.FinalSnapshotId(new string('r', Identifiers.MaxIdentifierLength), DateTimeOffset.UnixEpoch)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1snap")]
    [InlineData("snap--1")]
    [InlineData("snap-")]
    [InlineData("snap_1")]
    public void Snapshot_identifiers_follow_the_aws_rules(string id)
    {
        Assert.False(Identifiers.IsRdsSnapshotIdentifier(id));
        Assert.True(Identifiers.IsRdsSnapshotIdentifier("s" + new string('1', Identifiers.MaxSnapshotIdentifierLength - 1)));
        Assert.False(Identifiers.IsRdsSnapshotIdentifier("s" + new string('1', Identifiers.MaxSnapshotIdentifierLength)));
    }

    [Theory]
    [InlineData("disconnect", "Missing database name. Usage: disconnect <db> [--keep-replica | --final-snapshot]")]
    [InlineData("disconnect a b", "Unexpected argument 'b': disconnect takes one database name. Usage: disconnect <db> [--keep-replica | --final-snapshot]")]
    [InlineData("disconnect orders-db --keep-replicas", "Unknown option --keep-replicas for disconnect (did you mean --keep-replica?). Usage: disconnect <db> [--keep-replica | --final-snapshot]")]
    [InlineData("disconnect orders-db --final-snapshots", "Unknown option --final-snapshots for disconnect (did you mean --final-snapshot?). Usage: disconnect <db> [--keep-replica | --final-snapshot]")]
    [InlineData("disconnect orders-db --replica", "Unknown option --replica for disconnect")]
    [InlineData("disconnect orders_db", "Invalid database name 'orders_db'")]
    public void Disconnect_with_bad_arguments_is_refused_in_one_line(string text, string error)
    {
        Assert.StartsWith(error, ParseAssert.Fails(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Rotate_reads_its_database()
    {
        Assert.Equal("orders-db", ParseAssert.Parses<RotateCommand>("Rotate ORDERS-DB").Database);
    }

    [Theory]
    [InlineData("rotate", "Missing database name. Usage: rotate <db>")]
    [InlineData("rotate a b", "Unexpected argument 'b': rotate takes one database name. Usage: rotate <db>")]
    [InlineData("rotate a --now", "Unknown option --now for rotate: it takes no options. Usage: rotate <db>")]
    public void Rotate_with_bad_arguments_is_refused_in_one_line(string text, string error)
    {
        Assert.Equal(error, ParseAssert.Fails(text));
    }

    [Fact]
    public void Check_reads_its_database()
    {
        Assert.Equal("orders-db", ParseAssert.Parses<CheckCommand>("Check ORDERS-DB").Database);
        Assert.Contains("check <db>", CommandParser.HelpText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("check", "Missing database name. Usage: check <db>")]
    [InlineData("check a b", "Unexpected argument 'b': check takes one database name. Usage: check <db>")]
    [InlineData("check a --fix", "Unknown option --fix for check: it takes no options. Usage: check <db>")]
    public void Check_with_bad_arguments_is_refused_in_one_line(string text, string error)
    {
        Assert.Equal(error, ParseAssert.Fails(text));
    }

    [Fact]
    public void Audit_reads_its_onboarding_id()
    {
        Assert.Equal("ob-7k2m9q", ParseAssert.Parses<AuditCommand>("audit OB-7K2M9Q").OnboardingId);
    }

    [Theory]
    [InlineData("audit", "Missing onboarding id. Usage: audit <onboarding-id>")]
    [InlineData("audit db-1", "Invalid onboarding id 'db-1'")]
    [InlineData("audit ob-7k2m --all", "Unknown option --all for audit: it takes no options. Usage: audit <onboarding-id>")]
    public void Audit_with_bad_arguments_is_refused_in_one_line(string text, string error)
    {
        Assert.StartsWith(error, ParseAssert.Fails(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_disconnect_and_audit()
    {
        Assert.Contains("disconnect <db> [--keep-replica | --final-snapshot]", CommandParser.HelpText, StringComparison.Ordinal);
        Assert.Contains("audit <onboarding-id>", CommandParser.HelpText, StringComparison.Ordinal);
    }
}
