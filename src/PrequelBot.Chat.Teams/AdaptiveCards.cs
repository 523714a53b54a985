using System.Globalization;
using System.Text.Json.Nodes;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Renders the workflow's views as Adaptive Cards (version 1.5, content type <c>application/vnd.microsoft.card.adaptive</c>)
/// and wraps them in outgoing message activities. Pure: no I/O.
/// </summary>
internal static class AdaptiveCards
{
    public const string ContentType = "application/vnd.microsoft.card.adaptive";
    public const string Version = "1.5";

    /// <summary>An outgoing message: <c>type</c>, <c>from</c> (the bot), <c>conversation.id</c>; never <c>recipient</c>, <c>serviceUrl</c> or <c>id</c>.</summary>
    public static JsonObject Message(string botId, string conversationId, string? text, JsonObject? card = null)
    {
        var activity = new JsonObject
        {
            ["type"] = "message",
            ["from"] = new JsonObject { ["id"] = botId },
            ["conversation"] = new JsonObject { ["id"] = conversationId },
        };
        if (text is not null)
        {
            activity["text"] = text;
            activity["textFormat"] = "plain";
        }
        if (card is not null)
            activity["attachments"] = new JsonArray(new JsonObject { ["contentType"] = ContentType, ["content"] = card });
        return activity;
    }

    public static JsonObject Onboarding(OnboardingCardView view)
    {
        var body = new JsonArray
        {
            Text($"{view.Title} {view.OnboardingId}: {view.Database}", weight: "Bolder", size: "Medium"),
            Facts(
                ("Id", view.OnboardingId),
                ("Database", view.Database),
                ("Target", view.Target),
                ("Requested by", view.Requester.DisplayName ?? view.Requester.Id),
                ("State", view.State)),
            StepTable(view.Steps.Select(s => (s.Name, StepStates.Display(s.State), s.Detail, StepView.Mark(s.State)))),
        };
        if (view.Message is { Length: > 0 } message)
            body.Add(Text(message, color: view.State == OnboardingStates.Failed ? "Attention" : null));
        if (view.ReplacesEarlier) body.Add(Text(OnboardingCardView.ReplacementNote, isSubtle: true));
        return Card(body, view.ToText());
    }

    /// <summary>A notice (the drift watch's message): the headline in bold, then one text block per line.</summary>
    public static JsonObject Notice(ChatNoticeView view)
    {
        var body = new JsonArray { Text(view.Headline, weight: "Bolder") };
        foreach (var line in view.Lines) body.Add(Text(line));
        return Card(body, view.ToText());
    }

    public static JsonObject Prompt(ApprovalPromptView view)
    {
        var body = new JsonArray
        {
            Text($"Approval needed for {view.Step} of {view.OnboardingId} ({view.Database})", weight: "Bolder"),
        };
        foreach (var change in view.Changes) body.Add(Text("• " + change));
        if (view.Note is { Length: > 0 } note) body.Add(Text(note, isSubtle: true));
        if (view.ReplacesEarlier) body.Add(Text(ApprovalPromptView.ReplacementNote, isSubtle: true));
        body.Add(Text(Outcome(view), weight: view.IsPending ? null : "Bolder", isSubtle: view.IsPending));

        var card = Card(body, view.ToText());
        card["actions"] = view.IsPending
            ? new JsonArray(Submit("Approve", ApprovalActions.Approve, view.ApprovalId, "positive"),
                            Submit("Reject", ApprovalActions.Reject, view.ApprovalId, "destructive"))
            : new JsonArray();
        return card;
    }

    public static JsonObject Onboardings(IReadOnlyList<OnboardingSummary> list)
    {
        var body = new JsonArray { Text("Onboardings", weight: "Bolder", size: "Medium") };
        if (list.Count == 0) body.Add(Text("No active or recent onboardings."));
        foreach (var o in list)
        {
            body.Add(Text($"{o.OnboardingId} · {o.Database} · {o.State}" + (o.CurrentStep is { } step ? $" · {step}" : ""), weight: "Bolder"));
            body.Add(Text($"requested by {o.Requester.DisplayName ?? o.Requester.Id}, updated {o.UpdatedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC", isSubtle: true));
        }
        return Card(body, null);
    }

    public static JsonObject Plan(PlanView plan)
    {
        var body = new JsonArray
        {
            Text($"Plan for {plan.Database} (target {plan.Target})", weight: "Bolder", size: "Medium"),
            Text("Nothing has been changed.", isSubtle: true),
        };
        foreach (var step in plan.Steps)
        {
            body.Add(Text(step.Name + (step.NeedsApproval ? " (needs approval)" : ""), weight: "Bolder"));
            if (step.Changes.Count == 0) body.Add(Text("no change needed" + (step.Detail is { Length: > 0 } d ? $" ({d})" : ""), isSubtle: true));
            foreach (var change in step.Changes) body.Add(Text("• " + change));
            if (step.Note is { Length: > 0 } note) body.Add(Text(note, isSubtle: true));
        }
        if (plan.Unplanned is { } unplanned) body.Add(Text(unplanned, isSubtle: true));
        return Card(body, null);
    }

    private static string Outcome(ApprovalPromptView view) => view.State switch
    {
        ApprovalStates.Pending => $"{(view.Progress is { } progress ? progress + ". " : "")}Expires {Time(view.ExpiresAt)} UTC.",
        ApprovalStates.Approved => $"Approved by {string.Join(", ", view.ApprovedBy.Select(Name))} at {Time(view.DecidedAt)} UTC",
        ApprovalStates.Rejected => $"Rejected by {Name(view.DecidedBy)} at {Time(view.DecidedAt)} UTC",
        ApprovalStates.Expired => "Expired without a decision.",
        _ => "Cancelled.",
    };

    private static string Name(ChatUser? user) => user?.DisplayName ?? user?.Id ?? "someone";

    private static string Time(DateTimeOffset? at) =>
        at?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "an unknown time";

    private static JsonObject Card(JsonArray body, string? fallback)
    {
        var card = new JsonObject
        {
            ["type"] = "AdaptiveCard",
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["version"] = Version,
            ["body"] = body,
        };
        if (fallback is not null) card["fallbackText"] = fallback;
        return card;
    }

    private static JsonObject Submit(string title, string action, string approvalId, string style) => new()
    {
        ["type"] = "Action.Submit",
        ["title"] = title,
        ["style"] = style,
        ["data"] = new JsonObject { ["action"] = action, ["approvalId"] = approvalId },
    };

    private static JsonObject Text(string text, string? weight = null, string? size = null, bool isSubtle = false, string? color = null)
    {
        var block = new JsonObject { ["type"] = "TextBlock", ["text"] = text, ["wrap"] = true };
        if (weight is not null) block["weight"] = weight;
        if (size is not null) block["size"] = size;
        if (isSubtle) block["isSubtle"] = true;
        if (color is not null) block["color"] = color;
        return block;
    }

    private static JsonObject Facts(params (string Title, string? Value)[] facts)
    {
        var list = new JsonArray();
        foreach (var (title, value) in facts)
            if (value is { Length: > 0 }) list.Add(new JsonObject { ["title"] = title, ["value"] = value });
        return new JsonObject { ["type"] = "FactSet", ["facts"] = list };
    }

    private static JsonObject StepTable(IEnumerable<(string Name, string State, string? Detail, string Mark)> steps)
    {
        var container = new JsonObject { ["type"] = "Container", ["separator"] = true, ["items"] = new JsonArray() };
        var items = (JsonArray)container["items"]!;
        foreach (var (name, state, detail, mark) in steps)
        {
            items.Add(new JsonObject
            {
                ["type"] = "ColumnSet",
                ["columns"] = new JsonArray(
                    Column("auto", Text(mark)),
                    Column("stretch", Text(name, weight: "Bolder")),
                    Column("stretch", Text(state + (detail is { Length: > 0 } ? $" ({detail})" : ""), isSubtle: true))),
            });
        }
        return container;
    }

    private static JsonObject Column(string width, JsonObject item) =>
        new() { ["type"] = "Column", ["width"] = width, ["items"] = new JsonArray(item) };
}
