using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

/// <summary><c>--reader</c>: an existing Aurora reader as the target.</summary>
public class ReaderOptionTests
{
    [Theory]
    [InlineData("connect")]
    [InlineData("plan")]
    public void The_reader_is_read_and_lower_cased(string verb)
    {
        var text = $"{verb} auroradb --reader Orders-Reader-2";

        var options = verb == "connect" ? ParseAssert.Parses<ConnectCommand>(text).Options : ParseAssert.Parses<PlanCommand>(text).Options;

        Assert.Equal("orders-reader-2", options.Reader);
        Assert.False(options.Replica);
    }

    [Fact]
    public void Without_it_there_is_no_reader()
    {
        Assert.Null(ParseAssert.Parses<ConnectCommand>("connect auroradb --replica").Options.Reader);
    }

    [Fact]
    public void The_equals_form_works()
    {
        Assert.Equal("r1", ParseAssert.Parses<ConnectCommand>("connect auroradb --reader=r1").Options.Reader);
    }

    [Theory]
    [InlineData("connect auroradb --reader r1 --replica", "--reader and --replica exclude each other")]
    [InlineData("connect auroradb --replica --reader r1", "--reader and --replica exclude each other")]
    [InlineData("connect auroradb --reader", "Missing value for --reader")]
    [InlineData("connect auroradb --reader 1reader", "Invalid --reader '1reader'")]
    [InlineData("connect auroradb --reader a--b", "Invalid --reader 'a--b'")]
    [InlineData("connect auroradb --reader r1 --reader r2", "--reader given twice")]
    public void Bad_uses_are_named(string text, string expected)
    {
        var error = ParseAssert.Fails(text);

        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_and_help_mention_it()
    {
        Assert.Contains("[--reader <instance-id>]", ParseAssert.Fails("connect auroradb --bogus"), StringComparison.Ordinal);
        Assert.Contains("--reader <instance-id>", CommandParser.HelpText, StringComparison.Ordinal);
    }
}
