namespace PrequelBot.Workflows.Domain;

/// <summary>The transitions people cause: decisions on prompts (with quorum), cancel, retry, and prompts expiring.</summary>
public sealed partial class OnboardingAggregate
{
    /// <summary>
    /// One person's decision on a pending prompt. <paramref name="refusal"/> (from the approval policy, checked for every
    /// decision) records only the refusal. A Reject from any allowed approver ends the onboarding; approvals count once
    /// per person, and the step is approved when <see cref="ApprovalRecord.Required"/> distinct people approved.
    /// </summary>
    public Transition Decide(string approvalId, ChatUser actor, bool approve, string? refusal, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var a = Approval(approvalId) ?? throw new InvalidOperationException($"No approval {approvalId} in {Id}.");
        if (a.State != ApprovalState.Pending)
        {
            var by = a.DecidedBy is { } who ? $" by {Name(who)}" : "";
            var when = a.DecidedAt is { } at ? $" at {at:yyyy-MM-dd HH:mm} UTC" : "";
            return Transition.None($"Nothing changed: this prompt was already {a.State.Word()}{by}{when}.");
        }
        if (refusal is not null)
        {
            Audit(now, actor.ToString(), "decision-refused", $"{a.Id}: {refusal}");
            return Transition.Saved(message: refusal) with { Refused = true };
        }
        if (a.IsExpiredAt(now)) return Transition.None("Nothing changed: this prompt has expired.");
        var step = Step(a.Step);
        if (!approve)
        {
            a.Decisions.Add(new ApprovalDecision(actor, now, false));
            a.State = ApprovalState.Rejected;
            a.DecidedBy = actor;
            a.DecidedAt = now;
            LeaveStep(step, StepState.Rejected, $"rejected by {Name(actor)}", now);
            Leave(OnboardingState.Rejected, $"{a.Step} was rejected by {Name(actor)}; nothing more will change.");
            Audit(now, actor.ToString(), "rejected", $"{a.Step}: {a.Id}");
            return Transition.Saved(message: $"Rejected {a.Step} of {Id}.");
        }
        if (a.Decisions.Any(d => d.By.IsSamePerson(actor)))
            return Transition.None($"Nothing changed: you already approved {a.Step} ({a.Approvers.Count} of {a.Required} approvals); another approver must approve too.");
        a.Decisions.Add(new ApprovalDecision(actor, now, true));
        var count = a.Approvers.Count;
        Audit(now, actor.ToString(), "approved", a.Required == 1 ? $"{a.Step}: {a.Id}" : $"{a.Step}: {a.Id} ({count} of {a.Required})");
        if (count < a.Required)
            return Transition.Saved(message: $"Approved {a.Step} of {Id}: {count} of {a.Required} approvals, waiting for {a.Required - count} more.");
        a.State = ApprovalState.Approved;
        a.DecidedBy = actor;
        a.DecidedAt = now;
        if (step.State == StepState.AwaitingApproval)
        {
            step.State = StepState.Approved;
            step.ApprovalId = a.Id;
            step.Detail = $"approved by {string.Join(", ", a.Approvers.Select(Name))}";
        }
        if (State == OnboardingState.AwaitingApproval) Onboarding.State = OnboardingState.Running;
        return Transition.Saved(FollowUp.RunApprovedStep, $"Approved {a.Step} of {Id}.");
    }

    /// <summary>
    /// Any active state → cancelled, at once. Pending prompts and steps not yet running are cancelled; a running step
    /// keeps its lease until its worker stops at its next safe point and records what it did (<see cref="StopAfterCancel"/>).
    /// </summary>
    public Transition Cancel(ChatUser actor, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (State.IsFinished()) return Transition.None($"{Id} is already {State.Word()}; nothing to cancel.");
        foreach (var a in Approvals.Where(a => a.State == ApprovalState.Pending)) a.State = ApprovalState.Cancelled;
        StepRecord? running = null;
        foreach (var s in Steps)
        {
            if (s.State == StepState.Running && s.LeaseUntil is { } until && until >= now) running = s;
            else if (s.State is StepState.Pending or StepState.AwaitingApproval or StepState.Approved or StepState.Waiting or StepState.Running) s.State = StepState.Cancelled;
        }
        Leave(OnboardingState.Cancelled, $"Cancelled by {Name(actor)}.");
        Audit(now, actor.ToString(), "cancelled", running is null ? null : $"while {running.Name} was running");
        var tail = running is null ? "" : $" {running.Name} was running; it stops at its next safe point.";
        return Transition.Saved(message: $"Cancelled {Id}. Changes already made stay in place; nothing more will change.{tail}");
    }

    /// <summary>failed → running: the failed step is planned again from live state.</summary>
    public Transition Retry(ChatUser actor, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var failed = Steps.FirstOrDefault(s => s.State == StepState.Failed);
        if (State != OnboardingState.Failed || failed is null) return Transition.None($"{Id} is {State.Word()}; only a failed onboarding can be retried.");
        failed.State = StepState.Pending;
        failed.Detail = null;
        failed.Errors = 0;
        failed.Attempts = 0;
        failed.Deadline = null;
        failed.NextCheckAt = null;
        failed.StartedAt = null;
        failed.FinishedAt = null;
        failed.ApprovalId = null;
        Onboarding.State = OnboardingState.Running;
        Onboarding.Message = null;
        Audit(now, actor.ToString(), "retried", failed.Name);
        return Transition.Saved(FollowUp.RunStep, $"Retrying {failed.Name} of {Id}.");
    }

    /// <summary>A pending prompt past its expiry (however many approvals it had) → expired; the onboarding is cancelled.</summary>
    public Transition ExpirePrompts(DateTimeOffset now)
    {
        var expired = Approvals.Where(a => a.State == ApprovalState.Pending && a.IsExpiredAt(now)).ToList();
        if (expired.Count == 0 || State.IsFinished()) return Transition.None();
        foreach (var a in expired)
        {
            a.State = ApprovalState.Expired;
            var s = Step(a.Step);
            if (s.State == StepState.AwaitingApproval) s.State = StepState.Cancelled;
            s.Detail = "approval expired";
            Audit(now, AuditEvent.System, "approval-expired", $"{a.Step}: {a.Id}");
        }
        foreach (var s in Steps.Where(s => s.State is StepState.Pending)) s.State = StepState.Cancelled;
        Leave(OnboardingState.Cancelled, $"Cancelled: nobody decided on {string.Join(", ", expired.Select(e => e.Step))} before the prompt expired.");
        Audit(now, AuditEvent.System, "cancelled", "approval timeout");
        return Transition.Saved();
    }

    /// <summary>Whether a pending prompt has expired (the reconciler then calls <see cref="ExpirePrompts"/>).</summary>
    public bool HasExpiredPrompt(DateTimeOffset now) => Approvals.Any(a => a.State == ApprovalState.Pending && a.IsExpiredAt(now));
}
