namespace PrequelBot.Commands;

/// <summary>Turns command text into a typed <see cref="BotCommand"/> or a one-line error. Pure: no I/O.</summary>
public static class CommandParser
{
    /// <summary>Parses <paramref name="text"/> (the text after <c>/prequel</c>, or a Teams message with the mention removed).</summary>
    public static ParseResult Parse(string? text) => throw new NotImplementedException("parser lands with the foundation issue");

    /// <summary>The help text.</summary>
    public static string HelpText => "help";
}
