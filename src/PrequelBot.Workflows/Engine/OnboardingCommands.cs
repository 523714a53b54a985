using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Commands;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Runs chat commands: text → <see cref="CommandParser"/> → the workflow. Never throws for user input;
/// everything the user did wrong comes back as a one-line error reply and changes nothing.
/// </summary>
public sealed partial class OnboardingCommands(
    IStateStore store,
    OnboardingUpdater updater,
    StepHandlerRegistry handlers,
    ApprovalPolicy policy,
    IWorkScheduler scheduler,
    ISecretStore secrets,
    IOptionsMonitor<DatabasesOptions> databases,
    TimeProvider time,
    ILogger<OnboardingCommands> logger) : IChatCommandHandler
{
    /// <summary>How many onboardings <c>status</c> lists.</summary>
    public const int StatusListLimit = 15;

    public async Task<CommandReply> HandleAsync(ChatRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parsed = CommandParser.Parse(request.Text);
        if (!parsed.IsSuccess) return CommandReply.Error(parsed.Error!);
        try
        {
            return parsed.Command switch
            {
                ConnectCommand c => await ConnectAsync(request, c, cancellationToken).ConfigureAwait(false),
                PlanCommand p => await PlanAsync(p, cancellationToken).ConfigureAwait(false),
                StatusCommand s => await StatusAsync(s, cancellationToken).ConfigureAwait(false),
                CancelCommand c => await CancelAsync(request.User, c.OnboardingId, cancellationToken).ConfigureAwait(false),
                RetryCommand r => await RetryAsync(request.User, r.OnboardingId, cancellationToken).ConfigureAwait(false),
                _ => new CommandReply(CommandParser.HelpText),
            };
        }
        catch (StepFailedException e)
        {
            return CommandReply.Error(e.Message);
        }
    }

    private bool TryResolve(string alias, bool mustBeConfigured, out string instanceIdentifier, out string? error)
    {
        var all = databases.CurrentValue;
        if (all.TryGet(alias, out instanceIdentifier, out _))
        {
            error = null;
            return true;
        }
        instanceIdentifier = alias;
        if (!mustBeConfigured)
        {
            error = null;
            return true;
        }
        var known = all.Entries.Keys.Order(StringComparer.Ordinal).ToList();
        error = known.Count == 0
            ? $"Unknown database {alias}: no databases are configured (add Databases:{alias}:AdminConnectionString)."
            : $"Unknown database {alias}. Configured: {string.Join(", ", known)}.";
        return false;
    }

    private static OnboardingRequest BuildRequest(string alias, string instanceIdentifier, OnboardingOptions o)
    {
        string? replicaId = null;
        if (o.Replica)
        {
            replicaId = o.ReplicaId ?? $"{instanceIdentifier}-prequel-replica";
            if (replicaId.Length > 63)
                throw new StepFailedException($"The default replica id {replicaId} is longer than 63 characters; choose one with --replica-id.");
        }
        return new OnboardingRequest
        {
            DatabaseAlias = alias.ToLowerInvariant(),
            InstanceIdentifier = instanceIdentifier,
            Replica = o.Replica,
            ReplicaId = replicaId,
            ReplicaClass = o.ReplicaClass,
            ReplicaSubnetGroup = o.ReplicaSubnetGroup,
            SecurityGroupId = o.SecurityGroupId,
            Schemas = o.Schemas,
            Tables = o.Tables,
            UserName = o.User,
            SourceName = o.SourceName ?? alias.ToLowerInvariant(),
        };
    }

    private async Task<CommandReply> ConnectAsync(ChatRequest chat, ConnectCommand command, CancellationToken cancellationToken)
    {
        if (!TryResolve(command.Database, mustBeConfigured: true, out var instance, out var error)) return CommandReply.Error(error!);
        var request = BuildRequest(command.Database, instance, command.Options);
        var now = time.GetUtcNow();
        var onboarding = new Onboarding
        {
            Id = Ids.NewOnboardingId(),
            DatabaseKey = request.DatabaseAlias,
            Request = request,
            Requester = chat.User,
            Conversation = chat.Conversation,
            State = OnboardingStates.Planning,
            CreatedAt = now,
            UpdatedAt = now,
            ChatVersion = 1,
        };
        var steps = StepNames.For(request.Replica).Select((name, i) => new StepRecord { Name = name, Ordinal = i }).ToList();
        var aggregate = new OnboardingAggregate { Onboarding = onboarding, Steps = steps, Approvals = [] };
        try
        {
            await store.CreateAsync(aggregate, [updater.Audit(onboarding.Id, chat.User.ToString(), "onboarding-requested", $"connect {chat.Text.Trim()}")], cancellationToken).ConfigureAwait(false);
        }
        catch (ActiveOnboardingExistsException e)
        {
            var which = e.ExistingOnboardingId is { } id ? $" ({id}); see status {id}, or cancel {id} first" : "";
            return CommandReply.Error($"{request.DatabaseAlias} already has an active onboarding{which}.");
        }
        LogStarted(logger, onboarding.Id, request.DatabaseAlias, chat.User.Platform, chat.User.Id);
        scheduler.SyncChat(onboarding.Id);
        scheduler.RunStep(onboarding.Id, steps[0].Name);
        return new CommandReply($"Started onboarding {onboarding.Id} of {request.DatabaseAlias}. I will post the plan and ask an approver here before each change.")
        {
            StartedOnboardingId = onboarding.Id,
        };
    }

    private async Task<CommandReply> PlanAsync(PlanCommand command, CancellationToken cancellationToken)
    {
        TryResolve(command.Database, mustBeConfigured: false, out var instance, out _);
        var request = BuildRequest(command.Database, instance, command.Options);
        var facts = new OnboardingFacts();
        var planned = new List<PlannedStepView>();
        foreach (var step in StepNames.For(request.Replica))
        {
            var handler = handlers.Find(step);
            if (handler is null)
            {
                planned.Add(new PlannedStepView(step, [], null, StepHandlerRegistry.NotAvailable(step), StepNames.RequiresApproval(step)));
                if (step == StepNames.Discover) break;
                continue;
            }
            var context = new StepContext
            {
                OnboardingId = "plan",
                StepName = step,
                Request = request,
                Facts = facts,
                IsPreview = true,
                StartedAt = time.GetUtcNow(),
            };
            var plan = await handler.PlanAsync(context, cancellationToken).ConfigureAwait(false);
            if (step == StepNames.Discover)
            {
                // Discovery only reads; the plan needs its facts.
                var read = await handler.ApplyAsync(context, cancellationToken).ConfigureAwait(false);
                if (read.Outcome == StepOutcome.Failed) return CommandReply.Error(read.Message ?? "discover failed.");
                planned.Add(new PlannedStepView(step, [], null, read.Message, false));
                continue;
            }
            planned.Add(new PlannedStepView(step, plan.Changes, plan.Note, plan.HasChanges ? null : plan.Detail ?? "already in place", StepNames.RequiresApproval(step) && plan.HasChanges));
        }
        var view = new PlanView(request.DatabaseAlias, request.TargetInstanceIdentifier, planned);
        var text = new StringBuilder($"Plan for {request.DatabaseAlias} (target {request.TargetInstanceIdentifier}); nothing was changed:");
        foreach (var p in planned)
        {
            if (p.Changes.Count == 0) text.Append('\n').Append($"• {p.Name}: {p.Detail ?? "nothing to change"}");
            else foreach (var c in p.Changes) text.Append('\n').Append($"• {p.Name}: {c}");
            if (p.Note is { Length: > 0 } note) text.Append($" ({note})");
        }
        return new CommandReply(text.ToString()) { Plan = view };
    }

    private async Task<CommandReply> StatusAsync(StatusCommand command, CancellationToken cancellationToken)
    {
        if (command.OnboardingId is { } id)
        {
            var aggregate = await store.LoadAsync(id, cancellationToken).ConfigureAwait(false);
            if (aggregate is null) return CommandReply.Error($"No onboarding {id}. Use status to list recent ones.");
            var card = CardViews.Card(aggregate);
            return new CommandReply(card.ToText()) { Checklist = card };
        }
        var recent = await store.ListRecentWithCurrentStepAsync(StatusListLimit, cancellationToken).ConfigureAwait(false);
        if (recent.Count == 0) return new CommandReply("No onboardings yet. Start one with: connect <db>") { Onboardings = [] };
        var summaries = recent.Select(CardViews.Summary).ToList();
        var lines = summaries.Select(s => $"{s.OnboardingId} {s.Database}: {s.State}{(s.CurrentStep is { } c ? $" at {c}" : "")} (by {s.Requester.DisplayName ?? s.Requester.Id}, {s.UpdatedAt:yyyy-MM-dd HH:mm} UTC)");
        return new CommandReply("Onboardings:\n" + string.Join('\n', lines)) { Onboardings = summaries };
    }

    private async Task<CommandReply> CancelAsync(ChatUser actor, string onboardingId, CancellationToken cancellationToken)
    {
        CommandReply? reply = null;
        var saved = await updater.UpdateAsync(onboardingId, (agg, audit) =>
        {
            var ob = agg.Onboarding;
            if (policy.WhyNotAllowedToManage(actor, ob.Requester) is { } why)
            {
                reply = CommandReply.Error(why);
                return OnboardingUpdater.Change.Skip;
            }
            if (OnboardingStates.IsFinished(ob.State))
            {
                reply = CommandReply.Error($"{ob.Id} is already {ob.State}; nothing to cancel.");
                return OnboardingUpdater.Change.Skip;
            }
            ob.State = OnboardingStates.Cancelled;
            ob.Message = $"Cancelled by {actor.DisplayName ?? actor.Id}.";
            foreach (var a in agg.Approvals.Where(a => a.State == ApprovalStates.Pending)) a.State = ApprovalStates.Cancelled;
            foreach (var s in agg.Steps.Where(s => s.State is StepStates.Pending or StepStates.AwaitingApproval or StepStates.Approved or StepStates.Waiting))
                s.State = StepStates.Cancelled;
            audit.Add(updater.Audit(ob.Id, actor.ToString(), "cancelled"));
            return OnboardingUpdater.Change.Save;
        }, cancellationToken).ConfigureAwait(false);
        if (saved is not null) await secrets.EraseAsync(onboardingId, cancellationToken).ConfigureAwait(false);
        if (saved is not null) return new CommandReply($"Cancelled {onboardingId}. Changes already made stay in place; nothing more will change.");
        return reply ?? CommandReply.Error($"No onboarding {onboardingId}.");
    }

    private async Task<CommandReply> RetryAsync(ChatUser actor, string onboardingId, CancellationToken cancellationToken)
    {
        CommandReply? reply = null;
        string? step = null;
        OnboardingAggregate? saved;
        try
        {
            saved = await updater.UpdateAsync(onboardingId, (agg, audit) =>
            {
                var ob = agg.Onboarding;
                if (policy.WhyNotAllowedToManage(actor, ob.Requester) is { } why)
                {
                    reply = CommandReply.Error(why);
                    return OnboardingUpdater.Change.Skip;
                }
                var failed = agg.Steps.FirstOrDefault(s => s.State == StepStates.Failed);
                if (ob.State != OnboardingStates.Failed || failed is null)
                {
                    reply = CommandReply.Error($"{ob.Id} is {ob.State}; only a failed onboarding can be retried.");
                    return OnboardingUpdater.Change.Skip;
                }
                failed.State = StepStates.Pending;
                failed.Detail = null;
                failed.Errors = 0;
                failed.Attempts = 0;
                failed.Deadline = null;
                failed.NextCheckAt = null;
                failed.StartedAt = null;
                failed.FinishedAt = null;
                ob.State = OnboardingStates.Running;
                ob.Message = null;
                step = failed.Name;
                audit.Add(updater.Audit(ob.Id, actor.ToString(), "retried", failed.Name));
                return OnboardingUpdater.Change.Save;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (ActiveOnboardingExistsException e)
        {
            return CommandReply.Error($"Cannot retry {onboardingId}: {e.DatabaseKey} has another active onboarding ({e.ExistingOnboardingId}).");
        }
        if (saved is not null && step is not null)
        {
            scheduler.RunStep(onboardingId, step);
            return new CommandReply($"Retrying {step} of {onboardingId}.");
        }
        return reply ?? CommandReply.Error($"No onboarding {onboardingId}.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId} of {Database} requested by {Platform}:{UserId}")]
    private static partial void LogStarted(ILogger logger, string onboardingId, string database, string platform, string userId);
}
