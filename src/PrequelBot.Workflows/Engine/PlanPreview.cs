using System.Text;
using PrequelBot.Commands;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// <c>plan</c>: walks the same catalogue, handlers and contexts as <c>connect</c> without storing anything. Steps that
/// only read (discover) are applied so later steps plan from their facts; steps whose needs are not configured (the
/// database part of an RDS id that is not an alias) are named in one line instead of planned.
/// </summary>
public sealed class PlanPreview(OnboardingRequests requests, StepHandlerRegistry handlers, TimeProvider time)
{
    public async Task<CommandReply> PlanAsync(PlanCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var request = requests.Build(command.Database, command.Options, mustBeConfigured: false, out var configured, out var error);
        if (request is null) return CommandReply.Error(error!);
        var preview = OnboardingAggregate.Start(Ids.NewOnboardingId(), request, new ChatUser("", ""), new ConversationRef("", ""), "plan", time.GetUtcNow());
        var planned = new List<PlannedStepView>();
        var notPlanned = new List<string>();
        foreach (var step in preview.Steps)
        {
            var definition = preview.Catalogue.Step(step.Name);
            if (definition.Needs == StepNeeds.DatabaseAdmin && !configured)
            {
                notPlanned.Add(step.Name);
                continue;
            }
            var handler = handlers.For(step.Name);
            var context = StepContexts.For(preview, step, time, facts: preview.Onboarding.Facts);
            if (definition.ReadsOnly)
            {
                var read = await handler.ApplyAsync(context, cancellationToken);
                if (read.Outcome == StepOutcome.Failed) return CommandReply.Error(read.Message ?? $"{step.Name} failed.");
                planned.Add(new PlannedStepView(step.Name, [], null, read.Message, false));
                continue;
            }
            var plan = await handler.PlanAsync(context, cancellationToken);
            planned.Add(new PlannedStepView(step.Name, plan.Changes, plan.Note, plan.HasChanges ? null : plan.Detail ?? "already in place", definition.NeedsApproval && plan.HasChanges));
        }
        var unplanned = notPlanned.Count == 0 ? null
            : $"Not planned: {string.Join(", ", notPlanned)} need a configured database; add Databases:{request.DatabaseAlias}:AdminConnectionString (a role that may CREATE ROLE and GRANT) to plan and connect them.";
        var view = new PlanView(request.DatabaseAlias, request.TargetInstanceIdentifier, planned) { Unplanned = unplanned };
        return new CommandReply(Text(view)) { Plan = view };
    }

    private static string Text(PlanView view)
    {
        var text = new StringBuilder($"Plan for {view.Database} (target {view.Target}); nothing was changed:");
        foreach (var p in view.Steps)
        {
            if (p.Changes.Count == 0) text.Append('\n').Append($"• {p.Name}: {p.Detail ?? "nothing to change"}");
            else foreach (var c in p.Changes) text.Append('\n').Append($"• {p.Name}: {c}");
            if (p.Note is { Length: > 0 } note) text.Append($" ({note})");
        }
        if (view.Unplanned is { } line) text.Append('\n').Append(line);
        return text.ToString();
    }
}
