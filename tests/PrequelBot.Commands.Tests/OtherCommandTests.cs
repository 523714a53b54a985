using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

public class OtherCommandTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\n\t \r\n")]
    [InlineData("\u00a0&nbsp;")]
    [InlineData("help")]
    [InlineData("HELP")]
    [InlineData("  help \n")]
    [InlineData("--help")]
    public void Empty_text_and_help_ask_for_help(string? text)
    {
        ParseAssert.Parses<HelpCommand>(text);
    }

    [Fact]
    public void Help_with_an_argument_is_refused()
    {
        var error = ParseAssert.Fails("help me");

        Assert.Contains("help takes no arguments", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Status_without_an_id_lists_onboardings()
    {
        var command = ParseAssert.Parses<StatusCommand>("status");

        Assert.Null(command.OnboardingId);
    }

    [Theory]
    [InlineData("status ob-7k2m", "ob-7k2m")]
    [InlineData("Status OB-7K2M9Q", "ob-7k2m9q")]
    [InlineData("status ob-abcdefghijkl", "ob-abcdefghijkl")]
    public void Status_with_an_id_reads_the_id_in_lower_case(string text, string id)
    {
        var command = ParseAssert.Parses<StatusCommand>(text);

        Assert.Equal(id, command.OnboardingId);
    }

    [Fact]
    public void Cancel_reads_its_onboarding_id()
    {
        var command = ParseAssert.Parses<CancelCommand>("cancel ob-1a2b3c");

        Assert.Equal("ob-1a2b3c", command.OnboardingId);
    }

    [Fact]
    public void Retry_reads_its_onboarding_id()
    {
        var command = ParseAssert.Parses<RetryCommand>("retry ob-1a2b3c");

        Assert.Equal("ob-1a2b3c", command.OnboardingId);
    }

    [Theory]
    [InlineData("cancel")]
    [InlineData("retry")]
    public void Cancel_and_retry_without_an_id_are_refused(string text)
    {
        var error = ParseAssert.Fails(text);

        Assert.Equal($"Missing onboarding id. Usage: {text} <onboarding-id>", error);
    }

    [Theory]
    [InlineData("status ob-abc")]
    [InlineData("status ob-abcdefghijklm")]
    [InlineData("cancel 1a2b3c")]
    [InlineData("retry ob_1a2b3c")]
    [InlineData("cancel ob-1a2b-3c")]
    public void A_malformed_onboarding_id_is_refused(string text)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith("Invalid onboarding id", error, StringComparison.Ordinal);
        Assert.Contains("4 to 12 lower-case letters or digits", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("status ob-1234 ob-5678", "Unexpected argument 'ob-5678'")]
    [InlineData("cancel ob-1234 now", "Unexpected argument 'now'")]
    [InlineData("retry ob-1234 --force", "Unknown option --force for retry")]
    [InlineData("status --all", "Unknown option --all for status")]
    public void Extra_arguments_and_options_of_id_commands_are_refused(string text, string expected)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("conect mydb", "Unknown command 'conect' (did you mean connect?). Try: help")]
    [InlineData("deploy mydb", "Unknown command 'deploy'. Try: help")]
    [InlineData("--replica", "Unknown command '--replica'. Try: help")]
    public void An_unknown_command_suggests_help(string text, string expected)
    {
        var error = ParseAssert.Fails(text);

        Assert.Equal(expected, error);
    }

    [Fact]
    public void Help_text_mentions_every_command_and_option_with_the_defaults()
    {
        var help = CommandParser.HelpText;

        foreach (var word in new[]
                 {
                     "connect <db>", "plan <db>", "status [<onboarding-id>]", "cancel <onboarding-id>",
                     "retry <onboarding-id>", "help", "--replica ", "--replica-class", "--replica-id", "--schemas",
                     "--tables", "--user", "--source-name", "default: public", "default: prequel_reader",
                     "<instance>-prequel-replica", "default: the source's class", "default: <db>",
                 })
        {
            Assert.Contains(word, help, StringComparison.Ordinal);
        }
    }
}
