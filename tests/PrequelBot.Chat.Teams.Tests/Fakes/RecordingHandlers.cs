using System.Collections.Concurrent;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Teams.Tests.Fakes;

/// <summary>Records every command and answers with <see cref="Reply"/>.</summary>
public sealed class RecordingCommandHandler : IChatCommandHandler
{
    public ConcurrentQueue<ChatRequest> Requests { get; } = new();
    public Func<ChatRequest, CommandReply> Reply { get; set; } = r => new CommandReply($"echo: {r.Text}");

    public Task<CommandReply> HandleAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        return Task.FromResult(Reply(request));
    }
}

/// <summary>Records every decision and answers with <see cref="Outcome"/>.</summary>
public sealed class RecordingApprovalDecider : IApprovalDecider
{
    public ConcurrentQueue<(string ApprovalId, ChatUser Actor, bool Approve)> Decisions { get; } = new();
    public DecisionOutcome Outcome { get; set; } = DecisionOutcome.Recorded;

    public Task<DecisionResult> DecideAsync(string approvalId, ChatUser actor, bool approve, CancellationToken cancellationToken)
    {
        Decisions.Enqueue((approvalId, actor, approve));
        return Task.FromResult(new DecisionResult(Outcome, Outcome == DecisionOutcome.NotAllowed ? "You are not allowed to approve this." : Outcome.ToString()));
    }
}
