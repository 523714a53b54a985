using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Slack.Tests.Fakes;

/// <summary>A command handler that records requests and answers with <see cref="Reply"/> after <see cref="Delay"/>.</summary>
public sealed class RecordingCommandHandler : IChatCommandHandler
{
    public ConcurrentQueue<ChatRequest> Requests { get; } = new();
    public TimeSpan Delay { get; set; } = TimeSpan.Zero;
    public Func<ChatRequest, CommandReply> Reply { get; set; } = r => new CommandReply($"You said: {r.Text}");

    public async Task<CommandReply> HandleAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (Delay > TimeSpan.Zero) await Task.Delay(Delay, cancellationToken);
        return Reply(request);
    }
}

/// <summary>An approval decider that records clicks and answers with <see cref="Outcome"/>.</summary>
public sealed class RecordingApprovalDecider : IApprovalDecider
{
    public ConcurrentQueue<(string ApprovalId, ChatUser Actor, bool Approve)> Decisions { get; } = new();
    public DecisionOutcome Outcome { get; set; } = DecisionOutcome.Recorded;

    public Task<DecisionResult> DecideAsync(string approvalId, ChatUser actor, bool approve, CancellationToken cancellationToken)
    {
        Decisions.Enqueue((approvalId, actor, approve));
        var message = Outcome == DecisionOutcome.NotAllowed ? "You are not allowed to approve this step." : Outcome.ToString();
        return Task.FromResult(new DecisionResult(Outcome, message));
    }
}

/// <summary>Captures every log line (formatted message and exception text) so tests can search them for secrets.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, Lines);

    public void Dispose() { }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var structured = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} [{structured}] {exception}");
        }
    }
}

/// <summary>A clock stuck at one instant (timers still run on real time).</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
