using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Chat;

/// <summary>Builds the views chat adapters render from stored state.</summary>
public static class CardViews
{
    public static OnboardingCardView Card(OnboardingAggregate aggregate)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        var ob = aggregate.Onboarding;
        return new OnboardingCardView
        {
            OnboardingId = ob.Id,
            Database = ob.Request.DatabaseAlias,
            Requester = ob.Requester,
            State = ob.State.Word(),
            Steps = [.. aggregate.Steps.OrderBy(s => s.Ordinal).Select(s => new StepView(s.Name, Shown(s).Word(), s.Detail))],
            Message = ob.Message,
            Target = ob.Request.TargetInstanceIdentifier,
            UpdatedAt = ob.UpdatedAt,
            Title = Title(ob.Request.Kind),
        };
    }

    /// <summary>
    /// The state a card shows for a step: a waiting step that is being checked again (running, with its next check
    /// still set) stays "waiting" with its detail, so a re-check that finds nothing new changes nothing on the card and
    /// asks chat for nothing (docs/workflow.md, "Waiting").
    /// </summary>
    public static StepState Shown(StepRecord step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.State == StepState.Running && step.NextCheckAt is not null ? StepState.Waiting : step.State;
    }

    /// <summary>The word a card's title starts with for each kind ("Disconnect ob-…").</summary>
    public static string Title(OnboardingKind kind) => kind switch
    {
        OnboardingKind.Disconnect => "Disconnect",
        OnboardingKind.Rotate => "Rotate",
        _ => "Onboarding",
    };

    public static ApprovalPromptView Prompt(OnboardingAggregate aggregate, ApprovalRecord approval)
    {
        ArgumentNullException.ThrowIfNull(aggregate);
        ArgumentNullException.ThrowIfNull(approval);
        return new ApprovalPromptView
        {
            ApprovalId = approval.Id,
            OnboardingId = aggregate.Id,
            Database = aggregate.Onboarding.Request.DatabaseAlias,
            Step = approval.Step,
            Changes = approval.Changes,
            Note = approval.Note,
            State = approval.State.Word(),
            DecidedBy = approval.DecidedBy,
            DecidedAt = approval.DecidedAt,
            ExpiresAt = approval.ExpiresAt,
            Required = approval.Required,
            Approvers = approval.Approvers,
        };
    }

    /// <summary>One line of the <c>status</c> list; the current step is shown while the onboarding is active or failed.</summary>
    public static OnboardingSummary Summary(OnboardingListing listing) =>
        new(listing.Id, listing.DatabaseAlias, listing.State.Word(),
            listing.State.IsActive() || listing.State == OnboardingState.Failed ? listing.CurrentStep : null,
            listing.Requester, listing.UpdatedAt);
}
