using PrequelBot.Commands;

namespace PrequelBot.Commands.Tests;

/// <summary>Assertions that show the parser's error when a parse unexpectedly fails, and vice versa.</summary>
internal static class ParseAssert
{
    public static T Parses<T>(string? text) where T : BotCommand
    {
        var result = CommandParser.Parse(text);
        Assert.True(result.IsSuccess, $"expected '{text}' to parse, got error: {result.Error}");
        Assert.Null(result.Error);
        return Assert.IsType<T>(result.Command);
    }

    public static string Fails(string? text)
    {
        var result = CommandParser.Parse(text);
        Assert.False(result.IsSuccess, $"expected '{text}' to be rejected, got {result.Command}");
        Assert.Null(result.Command);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        Assert.DoesNotContain('\n', result.Error);
        Assert.DoesNotContain('\r', result.Error);
        return result.Error!;
    }
}
