using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Chat;

/// <summary>Everything an onboarding card shows. Platform adapters render it (Block Kit, Adaptive Card).</summary>
public sealed record OnboardingCardView
{
    public required string OnboardingId { get; init; }
    public required string Database { get; init; }
    public required ChatUser Requester { get; init; }
    /// <summary>One of <see cref="OnboardingStates"/>.</summary>
    public required string State { get; init; }
    public required IReadOnlyList<StepView> Steps { get; init; }
    /// <summary>The latest message (failure reason, cancellation reason), if any.</summary>
    public string? Message { get; init; }
    /// <summary>The instance Prequel will connect to (the replica with <c>--replica</c>).</summary>
    public string? Target { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>
    /// Set by the outbox when this card was posted while an earlier post of it may also show (a platform that cannot
    /// look its messages up, docs/chat-outbox.md): the card then says it replaces the earlier one.
    /// </summary>
    public bool ReplacesEarlier { get; init; }

    /// <summary>The line a replacement card shows (<see cref="ReplacesEarlier"/>).</summary>
    public const string ReplacementNote = "This card replaces an earlier copy of it that may also show here; only this one is kept up to date.";

    /// <summary>The kind's word in the card's title: <c>Onboarding</c> for connect, <c>Disconnect</c>, …</summary>
    public string Title { get; init; } = "Onboarding";

    /// <summary>A plain-text rendering: fallback text, logs of what was shown, and simple clients.</summary>
    public string ToText()
    {
        var lines = new List<string> { $"{Title} {OnboardingId} of {Database}: {State} (requested by {Requester.DisplayName ?? Requester.Id})" };
        lines.AddRange(Steps.Select(s => $"{StepView.Mark(s.State)} {s.Name}: {StepStates.Display(s.State)}{(s.Detail is { Length: > 0 } d ? $" ({d})" : "")}"));
        if (Message is { Length: > 0 }) lines.Add(Message);
        return string.Join('\n', lines);
    }
}

/// <summary>A step line on the card.</summary>
public sealed record StepView(string Name, string State, string? Detail)
{
    /// <summary>A one-character marker per step state, for text renderings.</summary>
    public static string Mark(string state) => state switch
    {
        StepStates.Completed or StepStates.AlreadyInPlace => "[x]",
        StepStates.Failed or StepStates.Rejected or StepStates.Cancelled => "[!]",
        StepStates.Running or StepStates.Waiting or StepStates.Approved => "[>]",
        StepStates.AwaitingApproval => "[?]",
        _ => "[ ]",
    };
}

/// <summary>Everything an approval prompt shows.</summary>
public sealed record ApprovalPromptView
{
    public required string ApprovalId { get; init; }
    public required string OnboardingId { get; init; }
    public required string Database { get; init; }
    public required string Step { get; init; }
    /// <summary>The exact changes this approval allows, one per line.</summary>
    public required IReadOnlyList<string> Changes { get; init; }
    public string? Note { get; init; }
    /// <summary>One of <see cref="ApprovalStates"/>; buttons are shown only while pending.</summary>
    public required string State { get; init; }
    public ChatUser? DecidedBy { get; init; }
    public DateTimeOffset? DecidedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    /// <summary>Distinct approvers the step needs (<c>Approvals:Steps:&lt;step&gt;:Required</c>).</summary>
    public int Required { get; init; } = 1;
    /// <summary>Everyone who approved so far, in order.</summary>
    public IReadOnlyList<ChatUser> Approvers { get; init; } = [];
    /// <summary>
    /// Set by the outbox when this prompt was posted while an earlier post of it may also show (docs/chat-outbox.md):
    /// the prompt says it replaces the earlier one. A click on either decides the same approval, so one decision counts.
    /// </summary>
    public bool ReplacesEarlier { get; init; }

    /// <summary>The line a replacement prompt shows (<see cref="ReplacesEarlier"/>).</summary>
    public const string ReplacementNote = "This prompt replaces an earlier one for the same step that may also show here: both decide the same approval, and only the first decision counts.";

    public bool IsPending => State == ApprovalStates.Pending;

    /// <summary>While a quorum is incomplete: <c>1 of 2 approvals (alex)</c>; null for single-approver prompts.</summary>
    public string? Progress => Required > 1 && IsPending
        ? $"{Approvers.Count} of {Required} approvals{(Approvers.Count > 0 ? $" ({string.Join(", ", Approvers.Select(a => a.DisplayName ?? a.Id))})" : "")}"
        : null;

    /// <summary>Who approved, for the decided prompt: every approver of a quorum, else the one who decided.</summary>
    public IReadOnlyList<ChatUser> ApprovedBy => Approvers.Count > 0 ? Approvers : DecidedBy is { } by ? [by] : [];

    /// <summary>Plain-text rendering (fallback text).</summary>
    public string ToText()
    {
        var head = $"Approval needed for {Step} of {OnboardingId} ({Database}):";
        var body = string.Join('\n', Changes.Select(c => "• " + c));
        var tail = State switch
        {
            ApprovalStates.Pending => $"{(Progress is { } p ? p + ". " : "")}Expires {ExpiresAt:yyyy-MM-dd HH:mm} UTC.",
            ApprovalStates.Approved => $"Approved by {string.Join(", ", ApprovedBy.Select(a => a.DisplayName ?? a.Id))} at {DecidedAt:yyyy-MM-dd HH:mm:ss} UTC.",
            ApprovalStates.Rejected => $"Rejected by {DecidedBy?.DisplayName ?? DecidedBy?.Id} at {DecidedAt:yyyy-MM-dd HH:mm:ss} UTC.",
            ApprovalStates.Expired => "Expired without a decision.",
            _ => "Cancelled.",
        };
        return string.Join('\n', new[] { head, body, Note, tail }.Where(s => !string.IsNullOrEmpty(s)));
    }
}

/// <summary>A line of <c>status</c> without an id.</summary>
public sealed record OnboardingSummary(string OnboardingId, string Database, string State, string? CurrentStep, ChatUser Requester, DateTimeOffset UpdatedAt);

/// <summary>The plan of <c>plan</c>: each step with its would-be changes.</summary>
public sealed record PlanView(string Database, string Target, IReadOnlyList<PlannedStepView> Steps)
{
    /// <summary>One line naming the steps that were not planned and what they need (e.g. a configured database), or null.</summary>
    public string? Unplanned { get; init; }
}

public sealed record PlannedStepView(string Name, IReadOnlyList<string> Changes, string? Note, string? Detail, bool NeedsApproval);

/// <summary>
/// A plain notice to a conversation, not tied to a card: the drift watch's message when what has drifted changes
/// (docs/workflow.md, "Drift"). <see cref="Text"/> holds no secret, AWS account id or ARN.
/// </summary>
public sealed record ChatNoticeView(string Text)
{
    /// <summary>The first line.</summary>
    public string Headline => Text.Split('\n', 2)[0];

    /// <summary>The lines after the first.</summary>
    public IReadOnlyList<string> Lines => [.. Text.Split('\n').Skip(1).Where(l => l.Length > 0)];

    public string ToText() => Text;
}
