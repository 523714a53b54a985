namespace PrequelBot.Workflows.Domain;

/// <summary>A new approval prompt's terms: how many distinct approvers, when it expires, and its id.</summary>
public sealed record PromptTerms(string ApprovalId, int Required, DateTimeOffset ExpiresAt);

public sealed partial class OnboardingAggregate
{
    /// <summary>
    /// pending → already in place (no changes), approved (no approval needed, or an unexpired approval of exactly this
    /// plan exists), or awaiting approval (a new prompt). <paramref name="facts"/> are kept only when nothing changes.
    /// </summary>
    public Transition RecordPlan(string stepName, StepPlan plan, OnboardingFacts facts, PromptTerms terms, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(terms);
        var s = Step(stepName);
        if (State.IsFinished() || s.State != StepState.Pending || CurrentStep != s) return Transition.None();
        SetPlan(s, plan);
        s.Errors = 0;
        if (!plan.HasChanges)
        {
            // What planning learned (e.g. the id of a Prequel source that already exists) is kept.
            Onboarding.Facts = facts;
            LeaveStep(s, StepState.AlreadyInPlace, plan.Detail ?? "already in place", now);
            Continue(OnboardingState.Running);
            Audit(now, AuditEvent.System, "step-already-in-place", $"{s.Name}: {s.Detail}");
            return Transition.Saved(FollowUp.RunStep);
        }
        if (!Catalogue.Step(s.Name).NeedsApproval)
        {
            s.State = StepState.Approved;
            Continue(OnboardingState.Running);
            Audit(now, AuditEvent.System, "step-planned", s.Name);
            return Transition.Saved(FollowUp.RunStep);
        }
        // An approval covers exactly one plan while it is valid: a re-plan that yields the same plan (after a crash or a
        // retry) reuses it instead of asking again; an expired one is never used.
        var hash = plan.Hash(s.Name);
        if (Approvals.LastOrDefault(a => a.Step == s.Name && a.State == ApprovalState.Approved && a.PlanHash == hash && !a.IsExpiredAt(now)) is { } before)
        {
            s.State = StepState.Approved;
            s.ApprovalId = before.Id;
            Continue(OnboardingState.Running);
            Audit(now, AuditEvent.System, "approval-reused", $"{s.Name}: {before.Id}");
            return Transition.Saved(FollowUp.RunStep);
        }
        Ask(s, plan, terms, null, now);
        return Transition.Saved();
    }

    /// <summary>approved, lapsed running, or due waiting → running under <paramref name="owner"/>'s lease.</summary>
    public Transition Claim(string stepName, string owner, DateTimeOffset leaseUntil, DateTimeOffset now)
    {
        var s = Step(stepName);
        if (State.IsFinished() || CurrentStep != s || !s.IsRunnable(now)) return Transition.None();
        if (s.State == StepState.Running) Audit(now, AuditEvent.System, "step-resumed", $"{s.Name}: the previous worker stopped");
        else if (s.State == StepState.Approved) Audit(now, AuditEvent.System, "step-started", s.Name);
        var wasWaiting = s.State == StepState.Waiting;
        s.State = StepState.Running;
        s.LeaseOwner = owner;
        s.LeaseUntil = leaseUntil;
        s.Attempts++;
        s.StartedAt ??= now;
        Onboarding.State = wasWaiting ? OnboardingState.Waiting : OnboardingState.Running;
        // A re-check of a waiting step: the card keeps showing it waiting (CardViews.Shown), so chat has nothing new.
        return wasWaiting ? Transition.Saved() with { ChatUnchanged = true } : Transition.Saved();
    }

    /// <summary>The heartbeat: extends the lease while the onboarding is active and <paramref name="owner"/> holds it.</summary>
    public Transition RenewLease(string stepName, string owner, DateTimeOffset leaseUntil)
    {
        var s = Step(stepName);
        if (State.IsFinished() || !s.IsHeldBy(owner)) return Transition.None("the lease is lost");
        s.LeaseUntil = leaseUntil;
        return Transition.Saved() with { ChatUnchanged = true };
    }

    /// <summary>Voids a running step's lease whose worker is known to be gone (a single-node restart).</summary>
    public Transition ReleaseLease(string stepName, DateTimeOffset now)
    {
        var s = Step(stepName);
        if (s.State != StepState.Running || s.LeaseUntil is null) return Transition.None();
        s.LeaseOwner = null;
        s.LeaseUntil = null;
        Audit(now, AuditEvent.System, "lease-voided", $"{stepName}: the previous process stopped while the step ran");
        return Transition.Saved();
    }

    /// <summary>running → completed, keeping the facts Apply learned.</summary>
    public Transition FinishStep(string stepName, string owner, OnboardingFacts facts, string? summary, DateTimeOffset now)
    {
        var s = Step(stepName);
        if (!s.IsHeldBy(owner)) return Transition.None();
        Onboarding.Facts = facts;
        if (State == OnboardingState.Cancelled) return StoppedByCancel(s, summary is null ? "it finished" : $"it finished: {summary}", now);
        s.Errors = 0;
        s.NextCheckAt = null;
        LeaveStep(s, StepState.Completed, summary, now);
        Continue(OnboardingState.Running);
        Audit(now, AuditEvent.System, "step-completed", summary is null ? stepName : $"{stepName}: {summary}");
        return Transition.Saved(FollowUp.RunStep);
    }

    /// <summary>running → waiting (a re-check after <paramref name="delay"/>), or failed once the wait outlasts its deadline.</summary>
    public Transition WaitStep(string stepName, string owner, OnboardingFacts facts, string? status, TimeSpan waitTimeout, TimeSpan delay, DateTimeOffset now)
    {
        var s = Step(stepName);
        if (!s.IsHeldBy(owner)) return Transition.None();
        Onboarding.Facts = facts;
        if (State == OnboardingState.Cancelled) return StoppedByCancel(s, $"it was waiting: {status}", now);
        s.Deadline ??= (s.StartedAt ?? now) + waitTimeout;
        // A re-check that finds what the card already shows (still waiting, same detail) changes nothing chat shows:
        // one chat sync fewer per re-check of every waiting onboarding (bench/README.md, "1,000 onboardings waiting").
        var unchanged = s.NextCheckAt is not null && s.Detail == status && Onboarding.State == OnboardingState.Waiting;
        s.LeaseOwner = null;
        s.LeaseUntil = null;
        if (now >= s.Deadline)
        {
            var waited = now - (s.StartedAt ?? now);
            LeaveStep(s, StepState.Failed, $"gave up after waiting {Math.Round(waited.TotalMinutes)} min: {status}", now);
            Leave(OnboardingState.Failed, $"{stepName} failed: {s.Detail}. Use retry {Id} to wait again.");
            Audit(now, AuditEvent.System, "step-failed", $"{stepName}: {s.Detail}");
            return Transition.Saved();
        }
        s.State = StepState.Waiting;
        s.Detail = status;
        s.NextCheckAt = now + delay;
        Continue(OnboardingState.Waiting);
        if (s.Attempts == 1) Audit(now, AuditEvent.System, "step-waiting", $"{stepName}: {status}");
        return Transition.Saved(FollowUp.RunStepLater, delay: delay) with { ChatUnchanged = unchanged };
    }

    /// <summary>
    /// running (held by <paramref name="owner"/>) or, with no owner, a step that failed while planning → failed; the
    /// onboarding fails and says how to go on.
    /// </summary>
    public Transition FailStep(string stepName, string? owner, string reason, DateTimeOffset now, ChangeRecord? changes = null)
    {
        var s = Step(stepName);
        if (owner is null ? s.State is not (StepState.Pending or StepState.Approved) : !s.IsHeldBy(owner)) return Transition.None();
        // A step that failed part-way keeps the record of what it did change, so disconnect can undo it.
        if (changes is not null) Onboarding.Facts.Changes = changes;
        if (owner is not null && State == OnboardingState.Cancelled) return StoppedByCancel(s, $"it failed: {reason}", now);
        LeaveStep(s, StepState.Failed, reason, now);
        if (!State.IsFinished()) Leave(OnboardingState.Failed, $"{stepName} failed: {reason} Fix the cause, then: retry {Id}");
        Audit(now, AuditEvent.System, "step-failed", $"{stepName}: {reason}");
        return Transition.Saved();
    }

    /// <summary>An unexpected error: retried after <paramref name="retryIn"/> until <paramref name="maxErrors"/>, then failed.</summary>
    public Transition StepError(string stepName, string? owner, string errorType, int maxErrors, TimeSpan retryIn, DateTimeOffset now)
    {
        var s = Step(stepName);
        if (owner is null ? s.State != StepState.Pending : !s.IsHeldBy(owner)) return Transition.None();
        if (owner is not null && State == OnboardingState.Cancelled) return StoppedByCancel(s, "it stopped after an unexpected error", now);
        s.Errors++;
        s.LeaseOwner = null;
        s.LeaseUntil = null;
        var what = $"unexpected error ({errorType})";
        if (s.Errors >= maxErrors)
        {
            LeaveStep(s, StepState.Failed, $"{what}, {s.Errors} times; see the PrequelBot log", now);
            if (!State.IsFinished()) Leave(OnboardingState.Failed, $"{stepName} failed: {s.Detail}. Fix the cause, then: retry {Id}");
            Audit(now, AuditEvent.System, "step-failed", $"{stepName}: {s.Detail}");
            return Transition.Saved();
        }
        if (owner is not null) s.State = s.NextCheckAt is null ? StepState.Approved : StepState.Waiting;
        if (s.State == StepState.Waiting) s.NextCheckAt = now + retryIn;
        s.Detail = $"{what}; retrying (attempt {s.Errors + 1} of {maxErrors})";
        Audit(now, AuditEvent.System, "step-error", $"{stepName}: {what}");
        return Transition.Saved(FollowUp.RunStepLater, delay: retryIn);
    }

    /// <summary>The running step stopped because the onboarding was cancelled (its token fired): recorded as cancelled.</summary>
    public Transition StopAfterCancel(string stepName, string owner, string whatItDid, DateTimeOffset now)
    {
        var s = Step(stepName);
        return s.IsHeldBy(owner) && State == OnboardingState.Cancelled ? StoppedByCancel(s, whatItDid, now) : Transition.None();
    }

    /// <summary>
    /// Just before Apply the live plan differs from the approved one, or the approval expired: running → awaiting approval
    /// with a new prompt (or already in place when nothing is left to do). Nothing was applied.
    /// </summary>
    public Transition ReAsk(string stepName, string owner, StepPlan plan, OnboardingFacts facts, string reason, PromptTerms terms, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var s = Step(stepName);
        if (!s.IsHeldBy(owner)) return Transition.None();
        if (State == OnboardingState.Cancelled) return StoppedByCancel(s, "it applied nothing", now);
        s.LeaseOwner = null;
        s.LeaseUntil = null;
        s.Attempts = 0;
        s.StartedAt = null;
        s.ApprovalId = null;
        SetPlan(s, plan);
        // What the step found of its own earlier run (a crash after the change, before the save) is the bot's: keep it.
        Onboarding.Facts.Changes = facts.Changes;
        Audit(now, AuditEvent.System, "plan-changed", $"{s.Name}: {reason}");
        if (!plan.HasChanges)
        {
            Onboarding.Facts = facts;
            LeaveStep(s, StepState.AlreadyInPlace, plan.Detail ?? "already in place", now);
            Continue(OnboardingState.Running);
            return Transition.Saved(FollowUp.RunStep);
        }
        Ask(s, plan, terms, reason, now);
        return Transition.Saved();
    }

    private void Ask(StepRecord s, StepPlan plan, PromptTerms terms, string? why, DateTimeOffset now)
    {
        foreach (var stale in Approvals.Where(a => a.Step == s.Name && a.State == ApprovalState.Pending)) stale.State = ApprovalState.Cancelled;
        Approvals.Add(new ApprovalRecord
        {
            Id = terms.ApprovalId,
            OnboardingId = Id,
            Step = s.Name,
            Changes = plan.Changes,
            Note = plan.Note,
            Payload = plan.Payload,
            PlanHash = plan.Hash(s.Name),
            Required = Math.Max(1, terms.Required),
            RequestedAt = now,
            ExpiresAt = terms.ExpiresAt,
        });
        s.State = StepState.AwaitingApproval;
        s.Detail = why;
        Onboarding.State = OnboardingState.AwaitingApproval;
        if (why is not null) Onboarding.Message = $"{s.Name}: {why}; asking again.";
        Audit(now, AuditEvent.System, "approval-requested", $"{s.Name}: {terms.ApprovalId}: {string.Join("; ", plan.Changes)}");
    }

    private static void SetPlan(StepRecord s, StepPlan plan)
    {
        s.PlannedChanges = plan.Changes;
        s.PlanNote = plan.Note;
        s.PlanPayload = plan.Payload;
    }

    private Transition StoppedByCancel(StepRecord s, string whatItDid, DateTimeOffset now)
    {
        LeaveStep(s, StepState.Cancelled, whatItDid, now);
        Onboarding.Message = $"{Onboarding.Message} It was cancelled while {s.Name} was running; {whatItDid}".Trim();
        SecretsToErase = true; // the step may have stored a secret after the cancel erased them
        Audit(now, AuditEvent.System, "step-cancelled", $"{s.Name}: {whatItDid}");
        return Transition.Saved();
    }
}
