using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

public class HostileTextTests
{
    /// <summary>Each name position of every command, with {0} where the name goes.</summary>
    public static TheoryData<string> NamePositions() =>
    [
        "connect {0}",
        "plan {0}",
        "connect mydb --replica --replica-class {0}",
        "connect mydb --replica --replica-id {0}",
        "connect mydb --schemas {0}",
        "connect mydb --schemas public,{0}",
        "connect mydb --tables {0}",
        "connect mydb --tables public.{0}",
        "connect mydb --user {0}",
        "connect mydb --user={0}",
        "connect mydb --source-name {0}",
        "status {0}",
        "cancel {0}",
        "retry {0}",
    ];

    public static TheoryData<string, string> InjectionsInEveryNamePosition()
    {
        string[] attacks =
        [
            "x';DROP TABLE users;--",
            "x\";DROP",
            "x;DROP",
            "x'--",
            "`whoami`",
            "x' OR '1'='1",
            "x)/**/OR/**/1=1",
            "$(reboot)",
            "x|id",
            "../../etc/passwd",
            "<@U123>",
            "x%27",
        ];
        var data = new TheoryData<string, string>();
        foreach (var position in NamePositions())
        {
            foreach (var attack in attacks)
            {
                data.Add(position, attack);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(InjectionsInEveryNamePosition))]
    public void Injection_attempts_are_refused_in_every_name_position(string position, string attack)
    {
        var text = string.Format(System.Globalization.CultureInfo.InvariantCulture, position, attack);

        ParseAssert.Fails(text);
    }

    [Theory]
    [InlineData("connect my'db", "Character ''' is not allowed: names never contain quotes or semicolons")]
    [InlineData("connect \"mydb\"", "Character '\"' is not allowed: names never contain quotes or semicolons")]
    [InlineData("connect mydb; cancel ob-1234", "Character ';' is not allowed: names never contain quotes or semicolons")]
    [InlineData("connect mydb --source-name \u201cSales EU\u201d", "Curly quote U+201C is not allowed")]
    public void Quotes_and_semicolons_get_a_clear_error(string text, string expected)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("c\u043ennect mydb", "'\u043e' (U+043E)")] // Cyrillic o
    [InlineData("connect myd\u0431", "'\u0431' (U+0431)")] // Cyrillic be
    [InlineData("connect mydb --user pr\u0435quel", "'\u0435' (U+0435)")] // Cyrillic ie
    [InlineData("connect mydb --schemas publ\u0456c", "'\u0456' (U+0456)")] // Ukrainian i
    [InlineData("status ob-\u0430bcd", "'\u0430' (U+0430)")] // Cyrillic a
    [InlineData("connect \uff4dydb", "'\uff4d' (U+FF4D)")] // fullwidth m
    [InlineData("connect my\u200bdb", "U+200B (invisible)")] // zero-width space
    [InlineData("connect mydb\u200d", "U+200D (invisible)")] // zero-width joiner
    [InlineData("connect mydb --user u\u202e", "U+202E (invisible)")] // right-to-left override
    [InlineData("\ufeffconnect mydb", "U+FEFF (invisible)")] // byte-order mark
    [InlineData("connect mydb --source-name Caf\u00e9", "'\u00e9' (U+00E9)")]
    [InlineData("connect mydb --user u\U0001F600", "U+1F600")]
    public void Non_ascii_characters_are_refused_and_named(string text, string named)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith("Character ", error, StringComparison.Ordinal);
        Assert.Contains(named, error, StringComparison.Ordinal);
        Assert.Contains("plain ASCII", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect my\0db", "U+0000")]
    [InlineData("connect mydb\u0007", "U+0007")]
    [InlineData("connect mydb\u001b[31m", "U+001B")]
    [InlineData("connect mydb\u007f", "U+007F")]
    [InlineData("connect mydb\u0085", "U+0085")]
    [InlineData("connect mydb\v", "U+000B")]
    public void Control_characters_are_refused(string text, string named)
    {
        var error = ParseAssert.Fails(text);

        Assert.Equal($"Control character {named} is not allowed in a command.", error);
    }

    [Fact]
    public void Ten_kilobytes_of_text_is_too_long()
    {
        var text = "connect mydb --source-name " + new string('a', 10 * 1024);

        var error = ParseAssert.Fails(text);

        Assert.StartsWith("Command too long", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_thousand_characters_is_the_limit()
    {
        var padding = new string(' ', 1000 - "help".Length);

        ParseAssert.Parses<HelpCommand>("help" + padding);
        var error = ParseAssert.Fails("connect " + new string('a', 992));

        Assert.DoesNotContain("too long", error, StringComparison.Ordinal);
        Assert.StartsWith("Command too long", ParseAssert.Fails("connect " + new string('a', 993)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect mydb \u2014replica")]
    [InlineData("connect mydb \u2013replica")]
    [InlineData("connect mydb --replica")]
    public void An_em_or_en_dash_before_an_option_reads_as_two_hyphens(string text)
    {
        var command = ParseAssert.Parses<ConnectCommand>(text);

        Assert.True(command.Options.Replica);
    }

    [Fact]
    public void An_em_dash_inside_a_name_is_refused()
    {
        var error = ParseAssert.Fails("connect my\u2014db");

        Assert.Contains("U+2014", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect\u00a0mydb\u00a0--user\u00a0u1")]
    [InlineData("connect&nbsp;mydb&nbsp;--user&nbsp;u1")]
    [InlineData("\n  connect mydb\n--user u1\r\n")]
    [InlineData("\tconnect\tmydb\t--user\tu1\t")]
    public void Teams_spacing_and_newlines_are_whitespace(string text)
    {
        var command = ParseAssert.Parses<ConnectCommand>(text);

        Assert.Equal("mydb", command.Database);
        Assert.Equal("u1", command.Options.User);
    }

    [Theory]
    [InlineData("connect mydb --replcia", "--replcia")]
    [InlineData("connect mydb -r", "-r")]
    [InlineData("connect mydb --", "--")]
    [InlineData("plan mydb --drop-database", "--drop-database")]
    public void Unknown_options_are_refused(string text, string option)
    {
        var error = ParseAssert.Fails(text);

        Assert.StartsWith($"Unknown option {option} for ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_echoes_at_most_a_short_piece_of_user_text()
    {
        var error = ParseAssert.Fails("connect mydb " + new string('x', 500));

        Assert.True(error.Length < 400, error);
    }

    [Fact]
    public void A_trailing_newline_does_not_sneak_into_a_name()
    {
        Assert.False(Identifiers.IsPostgresIdentifier("reader\n"));
        Assert.False(Identifiers.IsRdsInstanceIdentifier("mydb\n"));
        Assert.False(Identifiers.IsOnboardingId("ob-1234\n"));
        Assert.False(Identifiers.IsInstanceClass("db.t4g.medium\n"));
        Assert.False(Identifiers.IsSourceName("Sales\n"));
    }
}
