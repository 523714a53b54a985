namespace PrequelBot.Workflows.Domain;

/// <summary>What the engine does after a transition was saved.</summary>
public enum FollowUp
{
    None,
    /// <summary>Advance the current step soon.</summary>
    RunStep,
    /// <summary>Advance the step a person just approved, on the approvals queue.</summary>
    RunApprovedStep,
    /// <summary>Re-run the current step after <see cref="Transition.Delay"/>.</summary>
    RunStepLater,
}

/// <summary>What a transition of <see cref="OnboardingAggregate"/> did: whether it changed anything, what follows, and a reply.</summary>
public sealed record Transition
{
    public bool Changed { get; init; }
    public FollowUp FollowUp { get; init; }
    public TimeSpan Delay { get; init; }
    /// <summary>A user-facing line: the reply to a command or a click, or why nothing changed.</summary>
    public string? Message { get; init; }
    /// <summary>The actor was not allowed: only the refusal was recorded (audit trail).</summary>
    public bool Refused { get; init; }
    /// <summary>
    /// The save changes nothing chat shows (a lease heartbeat; a waiting step's re-check that finds nothing new): the
    /// chat version is not bumped and no chat sync is asked for.
    /// </summary>
    public bool ChatUnchanged { get; init; }

    public static Transition None(string? message = null) => new() { Message = message };

    internal static Transition Saved(FollowUp followUp = FollowUp.None, string? message = null, TimeSpan delay = default) =>
        new() { Changed = true, FollowUp = followUp, Message = message, Delay = delay };
}

/// <summary>
/// The onboarding with its steps and approvals: loaded and saved as one unit (compare-and-set on
/// <see cref="Onboarding.Version"/>). It owns the state machine (docs/architecture.md, "The state machine"): every
/// transition is a method here that checks it is allowed, changes the records, appends audit events, and returns a
/// <see cref="Transition"/>. Nothing outside this class assigns a state.
/// </summary>
public sealed partial class OnboardingAggregate
{
    private readonly List<AuditEvent> _newEvents = [];

    public required Onboarding Onboarding { get; init; }
    public required List<StepRecord> Steps { get; init; }
    public required List<ApprovalRecord> Approvals { get; init; }

    public string Id => Onboarding.Id;

    public OnboardingState State => Onboarding.State;

    public StepCatalogue Catalogue => StepCatalogue.Of(Onboarding.Request.Kind);

    /// <summary>The first step that is not done, or null when all are.</summary>
    public StepRecord? CurrentStep => Steps.OrderBy(s => s.Ordinal).FirstOrDefault(s => !s.State.IsDone());

    public StepRecord Step(string name) => Steps.Single(s => s.Name == name);

    public ApprovalRecord? Approval(string id) => Approvals.FirstOrDefault(a => a.Id == id);

    /// <summary>Audit events of transitions since the last save; the state store appends them with the save.</summary>
    public IReadOnlyList<AuditEvent> NewEvents => _newEvents;

    /// <summary>
    /// Set when the onboarding ended for good (completed, rejected, cancelled), or a step ended after it was cancelled:
    /// the secrets it held must go. The engine
    /// erases them once after the save (the one leave hook, docs/architecture.md).
    /// </summary>
    public bool SecretsToErase { get; private set; }

    /// <summary>Called by the engine once the new events are stored.</summary>
    public void Saved()
    {
        _newEvents.Clear();
        SecretsToErase = false;
    }

    /// <summary>
    /// A new onboarding: the steps of its kind for this request, all pending, in state planning. A day-two kind starts with
    /// <paramref name="facts"/> taken from the connection it works on (e.g. <c>disconnect</c>: the change record).
    /// </summary>
    public static OnboardingAggregate Start(string id, OnboardingRequest request, ChatUser requester, ConversationRef conversation, string commandText, DateTimeOffset now, OnboardingFacts? facts = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(requester);
        var steps = StepCatalogue.Of(request.Kind).For(request).Select((s, i) => new StepRecord { Name = s.Name, Ordinal = i }).ToList();
        var onboarding = new Onboarding(facts: facts)
        {
            Id = id,
            DatabaseKey = request.DatabaseAlias,
            Request = request,
            Requester = requester,
            Conversation = conversation,
            CreatedAt = now,
            UpdatedAt = now,
            ChatVersion = 1,
        };
        var aggregate = new OnboardingAggregate { Onboarding = onboarding, Steps = steps, Approvals = [] };
        aggregate.Audit(now, requester.ToString(), "onboarding-requested", commandText);
        return aggregate;
    }

    /// <summary>planning/running → completed, once every step is done.</summary>
    public Transition Complete(DateTimeOffset now)
    {
        if (State.IsFinished() || CurrentStep is not null) return Transition.None();
        Leave(OnboardingState.Completed, Onboarding.Request.Kind switch
        {
            OnboardingKind.Disconnect => "Disconnected: what PrequelBot had created for this database is removed; see the steps for what was left alone.",
            OnboardingKind.Rotate => $"Rotated: Prequel source {Onboarding.Facts.Changes.PrequelSourceId} now uses the new password of {Onboarding.Facts.Changes.RoleName}.",
            _ => Onboarding.Facts.PrequelSourceId is { } id ? $"Connected to Prequel as source {id}." : "All steps are done.",
        });
        Audit(now, AuditEvent.System, "onboarding-completed");
        return Transition.Saved();
    }

    /// <summary>Appends an audit event as a transition would (for the state store's tests).</summary>
    internal void Append(AuditEvent e) => _newEvents.Add(e);

    private void Audit(DateTimeOffset at, string actor, string action, string? detail = null) =>
        _newEvents.Add(new AuditEvent(Id, at, actor, action, detail));

    private static string Name(ChatUser user) => user.DisplayName ?? user.Id;

    /// <summary>
    /// The one way an onboarding ends: its final state and message, and its secrets go, except after a failure, which
    /// <c>retry</c> resumes (the step after the failed one may still need the stored password).
    /// </summary>
    private void Leave(OnboardingState state, string message)
    {
        Onboarding.State = state;
        Onboarding.Message = message;
        if (state != OnboardingState.Failed) SecretsToErase = true;
    }

    /// <summary>The one way a step run ends: its final state and detail, the lease released.</summary>
    private static void LeaveStep(StepRecord step, StepState state, string? detail, DateTimeOffset now)
    {
        step.State = state;
        step.Detail = detail;
        step.LeaseOwner = null;
        step.LeaseUntil = null;
        step.FinishedAt = now;
    }

    /// <summary>Moves the onboarding on while it is active (a finished onboarding keeps its final state).</summary>
    private void Continue(OnboardingState state)
    {
        if (!State.IsFinished()) Onboarding.State = state;
    }
}
