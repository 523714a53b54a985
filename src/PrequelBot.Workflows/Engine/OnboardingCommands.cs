using Microsoft.Extensions.Logging;
using PrequelBot.Commands;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Runs chat commands: text → <see cref="CommandParser"/> → a transition of the onboarding. Never throws for user
/// input: everything the user did wrong comes back as a one-line error reply and changes nothing.
/// </summary>
public sealed partial class OnboardingCommands(
    IOnboardingStore store,
    OnboardingUpdater updater,
    OnboardingRequests requests,
    ConnectionRecords connections,
    ConnectionCheck check,
    PlanPreview preview,
    ApprovalPolicy policy,
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
        // Who may run what is decided before anything else, so a refused command changes nothing (docs/security.md).
        var name = CommandName(parsed.Command!);
        if (policy.WhyNotAllowedToRun(request.User, name) is { } refusal)
        {
            LogRefused(logger, name, request.User.Platform, request.User.Id);
            return CommandReply.Error(refusal);
        }
        try
        {
            return parsed.Command switch
            {
                ConnectCommand c => await ConnectAsync(request, c, cancellationToken),
                PlanCommand p => await preview.PlanAsync(p, cancellationToken),
                StatusCommand s => await StatusAsync(s, cancellationToken),
                CancelCommand c => await ManageAsync(request.User, c.OnboardingId, a => a.Cancel(request.User, time.GetUtcNow()), cancellationToken),
                RetryCommand r => await ManageAsync(request.User, r.OnboardingId, a => a.Retry(request.User, time.GetUtcNow()), cancellationToken),
                DisconnectCommand d => await DisconnectAsync(request, d, cancellationToken),
                RotateCommand r => await RotateAsync(request, r, cancellationToken),
                AuditCommand a => await AuditAsync(a, cancellationToken),
                CheckCommand c => await CheckAsync(c, cancellationToken),
                _ => new CommandReply(CommandParser.HelpText),
            };
        }
        catch (StepFailedException e)
        {
            return CommandReply.Error(e.Message);
        }
    }

    private async Task<CommandReply> ConnectAsync(ChatRequest chat, ConnectCommand command, CancellationToken cancellationToken)
    {
        var request = requests.Build(command.Database, command.Options, mustBeConfigured: true, out _, out var error);
        if (request is null) return CommandReply.Error(error!);
        return await StartAsync(chat, request, null, "onboarding", cancellationToken);
    }

    /// <summary>
    /// <c>disconnect</c>: a new onboarding of kind disconnect that starts from the connection's change record, so each of
    /// its steps removes only what this bot created (docs/workflow.md, "Disconnect").
    /// </summary>
    private async Task<CommandReply> DisconnectAsync(ChatRequest chat, DisconnectCommand command, CancellationToken cancellationToken)
    {
        var known = requests.Build(command.Database, new OnboardingOptions(), mustBeConfigured: true, out _, out var error);
        if (known is null) return CommandReply.Error(error!);
        var connection = await connections.FindAsync(known.DatabaseAlias, cancellationToken);
        if (connection is null)
            return CommandReply.Error($"{known.DatabaseAlias} is not connected: no connect of it has completed (since its last disconnect), so there is nothing to disconnect.");
        var connect = connection.LastConnect.Onboarding;
        string? finalSnapshot = null;
        if (command.FinalSnapshot)
        {
            if (connection.Changes.ReplicaId is not { } replica)
                return CommandReply.Error($"{known.DatabaseAlias}: --final-snapshot has nothing to keep: PrequelBot created no replica for it (disconnect never deletes the database itself).");
            finalSnapshot = Identifiers.FinalSnapshotId(replica, time.GetUtcNow());
        }
        var request = connect.Request with { Kind = OnboardingKind.Disconnect, KeepReplica = command.KeepReplica, FinalSnapshotId = finalSnapshot };
        var facts = new OnboardingFacts
        {
            Source = connect.Facts.Source,
            Target = connect.Facts.Target,
            Cluster = connect.Facts.Cluster,
            Changes = connection.Changes,
        };
        facts.Values[FactKeys.DisconnectOf] = connect.Id;
        return await StartAsync(chat, request, facts, "disconnect", cancellationToken);
    }

    /// <summary>
    /// <c>rotate</c>: a new onboarding of kind rotate for the role and Prequel source the connection's record names
    /// (docs/workflow.md, "Rotate").
    /// </summary>
    private async Task<CommandReply> RotateAsync(ChatRequest chat, RotateCommand command, CancellationToken cancellationToken)
    {
        var known = requests.Build(command.Database, new OnboardingOptions(), mustBeConfigured: true, out _, out var error);
        if (known is null) return CommandReply.Error(error!);
        var connection = await connections.FindAsync(known.DatabaseAlias, cancellationToken);
        if (connection is null)
            return CommandReply.Error($"{known.DatabaseAlias} is not connected: no connect of it has completed (since its last disconnect), so there is no password to rotate.");
        if (connection.Changes.RoleName is null || connection.Changes.PrequelSourceId is null)
            return CommandReply.Error($"{known.DatabaseAlias} has no recorded reader role and Prequel source to rotate; connect it again first.");
        var connect = connection.LastConnect.Onboarding;
        var facts = new OnboardingFacts
        {
            Source = connect.Facts.Source,
            Target = connect.Facts.Target,
            Cluster = connect.Facts.Cluster,
            PrequelSourceId = connection.Changes.PrequelSourceId,
            Changes = connection.Changes,
        };
        facts.Values[FactKeys.RotateOf] = connect.Id;
        var request = connect.Request with { Kind = OnboardingKind.Rotate, UserName = connection.Changes.RoleName };
        return await StartAsync(chat, request, facts, "rotation", cancellationToken);
    }

    private async Task<CommandReply> StartAsync(ChatRequest chat, OnboardingRequest request, OnboardingFacts? facts, string what, CancellationToken cancellationToken)
    {
        // The audit trail keeps the command as typed (it holds no secret: the parser accepts none).
        var aggregate = OnboardingAggregate.Start(Ids.NewOnboardingId(), request, chat.User, chat.Conversation, chat.Text.Trim(), time.GetUtcNow(), facts);
        try
        {
            await updater.CreateAsync(aggregate, cancellationToken);
        }
        catch (ActiveOnboardingExistsException e)
        {
            var which = e.ExistingOnboardingId is { } id ? $" ({id}); see status {id}, or cancel {id} first" : "";
            return CommandReply.Error($"{request.DatabaseAlias} already has an active onboarding{which}.");
        }
        LogStarted(logger, aggregate.Id, request.DatabaseAlias, chat.User.Platform, chat.User.Id);
        return new CommandReply($"Started {what} {aggregate.Id} of {request.DatabaseAlias}. I will post the plan and ask an approver here before each change.")
        {
            StartedOnboardingId = aggregate.Id,
        };
    }

    /// <summary>
    /// <c>check &lt;db&gt;</c>: one line per finding, each <c>ok …</c> or <c>drift: …</c>, answered to the requester only
    /// (docs/workflow.md, "Check"). Reads only, so it needs no onboarding of its own.
    /// </summary>
    private async Task<CommandReply> CheckAsync(CheckCommand command, CancellationToken cancellationToken)
    {
        var known = requests.Build(command.Database, new OnboardingOptions(), mustBeConfigured: true, out _, out var error);
        if (known is null) return CommandReply.Error(error!);
        var report = await check.RunAsync(known.DatabaseAlias, cancellationToken);
        if (report is null)
            return CommandReply.Error($"{known.DatabaseAlias} is not connected: no connect of it has completed (since its last disconnect), so there is nothing to check.");
        var drifted = report.Findings.Count(f => !f.Ok);
        var head = drifted == 0 ? $"Check of {known.DatabaseAlias} (connect {report.ConnectOnboardingId}): everything is as recorded." : $"Check of {known.DatabaseAlias} (connect {report.ConnectOnboardingId}): {drifted} finding(s) drifted.";
        return new CommandReply(head + "\n" + string.Join('\n', report.Findings.Select(f => f.Line)));
    }

    /// <summary>How many events <c>audit</c> shows in chat; the whole trail is at <c>GET /api/onboardings/{id}/audit</c>.</summary>
    public const int AuditPageSize = 60;

    /// <summary><c>audit &lt;id&gt;</c>: one line per event, UTC time (ISO 8601), platform, user id, event (docs/workflow.md, "Audit").</summary>
    private async Task<CommandReply> AuditAsync(AuditCommand command, CancellationToken cancellationToken)
    {
        var events = await store.GetAuditAsync(command.OnboardingId, cancellationToken);
        if (events.Count == 0) return CommandReply.Error($"No onboarding {command.OnboardingId}. Use status to list recent ones.");
        var lines = events.Take(AuditPageSize).Select(AuditLines.Line).ToList();
        if (events.Count > AuditPageSize)
            lines.Add($"… {events.Count - AuditPageSize} more events; the whole trail: GET /api/onboardings/{command.OnboardingId}/audit");
        return new CommandReply($"Audit of {command.OnboardingId}:\n" + string.Join('\n', lines));
    }

    private async Task<CommandReply> StatusAsync(StatusCommand command, CancellationToken cancellationToken)
    {
        if (command.OnboardingId is { } id)
        {
            var aggregate = await store.LoadAsync(id, cancellationToken);
            if (aggregate is null) return CommandReply.Error($"No onboarding {id}. Use status to list recent ones.");
            var card = CardViews.Card(aggregate);
            return new CommandReply(card.ToText()) { Checklist = card };
        }
        // The store hands out the same listing instance while it is current; so does this the reply built from it, and a
        // chat adapter keeps that reply rendered (docs/architecture.md, "The status fast path").
        var recent = await store.ListRecentWithCurrentStepAsync(StatusListLimit, cancellationToken);
        if (Volatile.Read(ref _lastListing) is { } last && ReferenceEquals(last.Listing, recent)) return last.Reply;
        var reply = ListingReply(recent);
        Volatile.Write(ref _lastListing, new ListingReplySnapshot(recent, reply));
        return reply;
    }

    private ListingReplySnapshot? _lastListing;

    private sealed record ListingReplySnapshot(IReadOnlyList<OnboardingListing> Listing, CommandReply Reply);

    private static CommandReply ListingReply(IReadOnlyList<OnboardingListing> recent)
    {
        if (recent.Count == 0) return new CommandReply("No onboardings yet. Start one with: connect <db>") { Onboardings = [] };
        var summaries = recent.Select(CardViews.Summary).ToList();
        var lines = summaries.Select(s => $"{s.OnboardingId} {s.Database}: {s.State}{(s.CurrentStep is { } c ? $" at {c}" : "")} (by {s.Requester.DisplayName ?? s.Requester.Id}, {s.UpdatedAt:yyyy-MM-dd HH:mm} UTC)");
        return new CommandReply("Onboardings:\n" + string.Join('\n', lines)) { Onboardings = summaries };
    }

    /// <summary><c>cancel</c> and <c>retry</c>: the requester or an approver, then the transition.</summary>
    private async Task<CommandReply> ManageAsync(ChatUser actor, string onboardingId, Func<OnboardingAggregate, Transition> transition, CancellationToken cancellationToken)
    {
        string? refusal = null;
        try
        {
            var result = await updater.UpdateAsync(onboardingId, agg =>
            {
                refusal = policy.WhyNotAllowedToManage(actor, agg.Onboarding.Requester);
                return refusal is null ? transition(agg) : Transition.None();
            }, cancellationToken);
            if (refusal is not null) return CommandReply.Error(refusal);
            if (result.Saved is not null) return new CommandReply(result.Transition.Message ?? "Done.");
            return CommandReply.Error(result.Transition.Message ?? $"No onboarding {onboardingId}.");
        }
        catch (ActiveOnboardingExistsException e)
        {
            return CommandReply.Error($"Cannot retry {onboardingId}: {e.DatabaseKey} has another active onboarding ({e.ExistingOnboardingId}).");
        }
    }

    /// <summary>The command's name as typed (<c>ConnectCommand</c> → <c>connect</c>), the key of <see cref="ApprovalPolicy.Commands"/>.</summary>
    public static string CommandName(BotCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        var type = command.GetType().Name;
        return (type.EndsWith("Command", StringComparison.Ordinal) ? type[..^"Command".Length] : type).ToLowerInvariant();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Command {Command} refused for {Platform}:{UserId}")]
    private static partial void LogRefused(ILogger logger, string command, string platform, string userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Onboarding {OnboardingId} of {Database} requested by {Platform}:{UserId}")]
    private static partial void LogStarted(ILogger logger, string onboardingId, string database, string platform, string userId);
}
