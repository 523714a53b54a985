using Microsoft.Extensions.Logging;

namespace PrequelBot.Aws.Tests.Steps;

/// <summary>Keeps every formatted log line, to check what reaches the log (and what does not).</summary>
public sealed class ListLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get { lock (_entries) { return [.. _entries]; } }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        lock (_entries) { _entries.Add((logLevel, formatter(state, exception))); }
    }
}
