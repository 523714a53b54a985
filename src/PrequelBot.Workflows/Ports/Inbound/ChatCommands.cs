using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Chat;

/// <summary>A command as it arrived from chat: who typed it, where, and the text after <c>/prequel</c> (or the mention).</summary>
public sealed record ChatRequest(ChatUser User, ConversationRef Conversation, string Text);

/// <summary>
/// The answer to a command, shown only to the user who typed it (Slack: ephemeral). <see cref="Text"/> is
/// always set (plain text); the structured parts let an adapter render something richer.
/// </summary>
public sealed record CommandReply(string Text)
{
    /// <summary>True when the command was refused (bad text, unknown database, not allowed…).</summary>
    public bool IsError { get; init; }
    /// <summary><c>status &lt;id&gt;</c>: the checklist.</summary>
    public OnboardingCardView? Checklist { get; init; }
    /// <summary><c>status</c>: active and recent onboardings.</summary>
    public IReadOnlyList<OnboardingSummary>? Onboardings { get; init; }
    /// <summary><c>plan</c>: the steps and their changes.</summary>
    public PlanView? Plan { get; init; }
    /// <summary><c>connect</c>: the id of the onboarding that was started.</summary>
    public string? StartedOnboardingId { get; init; }

    public static CommandReply Error(string message) => new(message) { IsError = true };
}

/// <summary>Handles command text from any chat platform.</summary>
public interface IChatCommandHandler
{
    /// <summary>
    /// Parses and runs a command. Never throws for user input: a bad command gives an error reply.
    /// <c>connect</c> returns as soon as the onboarding is stored; the card follows through the chat port.
    /// <c>plan</c> calls AWS and may take a few seconds.
    /// </summary>
    Task<CommandReply> HandleAsync(ChatRequest request, CancellationToken cancellationToken);
}

/// <summary>Records approval decisions from button clicks.</summary>
public interface IApprovalDecider
{
    /// <summary>
    /// Records <paramref name="actor"/>'s decision on approval <paramref name="approvalId"/>. The first decision
    /// wins; repeats and refused clicks change nothing. Safe to call twice with the same click.
    /// </summary>
    Task<DecisionResult> DecideAsync(string approvalId, ChatUser actor, bool approve, CancellationToken cancellationToken);
}

public enum DecisionOutcome
{
    /// <summary>The decision was recorded and the workflow moves on.</summary>
    Recorded,
    /// <summary>The actor may not decide (not an approver, or the requester with self-approval off).</summary>
    NotAllowed,
    /// <summary>Someone already decided, or the prompt expired or was cancelled: nothing changed.</summary>
    AlreadyDecided,
    /// <summary>No such approval.</summary>
    NotFound,
}

/// <summary>The answer to a click. <see cref="Message"/> is meant for the clicking user only.</summary>
public sealed record DecisionResult(DecisionOutcome Outcome, string Message, ApprovalPromptView? Prompt = null);

/// <summary>Action ids and values chat adapters put on approval buttons.</summary>
public static class ApprovalActions
{
    /// <summary>Action id (Slack <c>action_id</c>, Teams <c>data.action</c>) of the Approve button.</summary>
    public const string Approve = "prequel_approve";
    /// <summary>Action id of the Reject button.</summary>
    public const string Reject = "prequel_reject";
}
