using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using static PrequelBot.Chat.Slack.SlackBlockKit;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// Renders cards, approval prompts and command replies as Block Kit messages. Every message carries a plain
/// <c>text</c> fallback (the view's <c>ToText()</c>), user text is escaped, and Slack's limits hold
/// (≤ 50 blocks, section text ≤ 3000 characters: long change lists end with "… and N more").
/// </summary>
public static class SlackMessageRenderer
{
    /// <summary>The onboarding card: header with the id, database, requester, state, each step with its emoji and detail, message.</summary>
    public static SlackMessage Card(OnboardingCardView card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var blocks = CardBlocks(card);
        if (card.ReplacesEarlier && blocks.Count < SlackBlockKit.MaxBlocks) blocks.Add(Context(OnboardingCardView.ReplacementNote));
        return new SlackMessage(card.ToText(), blocks);
    }

    /// <summary>A notice (the drift watch's message): its headline, then its lines, escaped, within Slack's section limit.</summary>
    public static SlackMessage Notice(ChatNoticeView notice)
    {
        ArgumentNullException.ThrowIfNull(notice);
        var blocks = new JsonArray { Section(Truncate(Escape(notice.Headline), MaxSectionText)) };
        if (notice.Lines.Count > 0) blocks.Add(Section(JoinWithin([.. notice.Lines.Select(l => "• " + Escape(l))])));
        return new SlackMessage(Truncate(notice.ToText(), 3900), blocks);
    }

    /// <summary>
    /// The approval prompt: the exact changes, the note and, while pending, buttons <c>Approve</c> (primary) and
    /// <c>Reject</c> (danger, with a confirm dialog) whose value is the approval id. Once decided: no buttons,
    /// who decided and when.
    /// </summary>
    public static SlackMessage Prompt(ApprovalPromptView prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var blocks = new JsonArray
        {
            Section($"*Approval needed* for `{Escape(prompt.Step)}` of {Escape(prompt.OnboardingId)} (`{Escape(prompt.Database)}`):"),
            Section(prompt.Changes.Count == 0 ? "_(no changes listed)_" : Bullets(prompt.Changes)),
        };
        if (prompt.Note is { Length: > 0 } note)
        {
            blocks.Add(Context(Escape(note)));
        }

        if (prompt.ReplacesEarlier)
        {
            blocks.Add(Context(ApprovalPromptView.ReplacementNote));
        }

        if (prompt.IsPending)
        {
            blocks.Add(Buttons(prompt));
            if (prompt.Progress is { } progress) blocks.Add(Context(Escape(progress)));
            blocks.Add(Context($":hourglass_flowing_sand: Expires {Date(prompt.ExpiresAt)}"));
        }
        else
        {
            blocks.Add(Context(Outcome(prompt)));
        }

        return new SlackMessage(prompt.ToText(), blocks);
    }

    /// <summary>An ephemeral command reply: the text, plus the checklist, the onboarding list or the plan when present.</summary>
    public static SlackMessage Reply(CommandReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var blocks = new JsonArray();
        if (reply.Checklist is null && reply.Onboardings is null && reply.Plan is null)
        {
            blocks.Add(Section((reply.IsError ? ":warning: " : "") + Escape(reply.Text)));
        }
        else
        {
            // The structured view is what the user reads; the plain text is only the notification fallback (as on Teams),
            // so it is not repeated as a block.
            if (reply.Checklist is { } card) AddAll(blocks, CardBlocks(card));
            if (reply.Onboardings is { Count: 0 }) blocks.Add(Section(Escape(reply.Text)));
            else if (reply.Onboardings is { } list)
            {
                blocks.Add(Header("Onboardings"));
                blocks.Add(Section(OnboardingList(list)));
            }

            if (reply.Plan is { } plan) AddAll(blocks, PlanBlocks(plan));
        }

        return new SlackMessage(reply.Text, Limit(blocks));
    }

    /// <summary>The emoji shown for a step state.</summary>
    public static string Emoji(string stepState) => stepState switch
    {
        StepStates.Completed => ":white_check_mark:",
        StepStates.AlreadyInPlace => ":heavy_check_mark:",
        StepStates.AwaitingApproval => ":raised_hand:",
        StepStates.Approved => ":thumbsup:",
        StepStates.Running => ":gear:",
        StepStates.Waiting => ":hourglass_flowing_sand:",
        StepStates.Failed => ":x:",
        StepStates.Rejected => ":no_entry_sign:",
        StepStates.Cancelled => ":heavy_minus_sign:",
        _ => ":white_circle:",
    };

    private static JsonArray CardBlocks(OnboardingCardView card)
    {
        var facts = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"*Database:* `{Escape(card.Database)}`")
            .Append(card.Target is { Length: > 0 } target && target != card.Database ? $"  →  *Target:* `{Escape(target)}`" : "")
            .Append(CultureInfo.InvariantCulture, $"\n*Requested by:* {Person(card.Requester)}")
            .Append(CultureInfo.InvariantCulture, $"\n*State:* {Escape(card.State)}");
        var steps = card.Steps.Select(s =>
            $"{Emoji(s.State)} `{Escape(s.Name)}` {StepStates.Display(s.State)}{(s.Detail is { Length: > 0 } d ? " — " + Escape(d) : "")}").ToList();

        var blocks = new JsonArray
        {
            Header($"{card.Title} {card.OnboardingId}"),
            Section(facts.ToString()),
            Section(steps.Count == 0 ? "_(no steps yet)_" : JoinWithin(steps)),
        };
        if (card.Message is { Length: > 0 } message)
        {
            blocks.Add(Section(Escape(message)));
        }

        if (card.UpdatedAt != default)
        {
            blocks.Add(Context($"Updated {Date(card.UpdatedAt)}"));
        }

        return blocks;
    }

    private static JsonObject Buttons(ApprovalPromptView prompt)
    {
        var value = Truncate(prompt.ApprovalId, 2000);
        return new JsonObject
        {
            ["type"] = "actions",
            // Unique per message and per iteration: a re-rendered pending prompt gets a new block id.
            ["block_id"] = $"{Truncate(prompt.ApprovalId, 200)}.{Guid.NewGuid():N}",
            ["elements"] = new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "button",
                    ["action_id"] = ApprovalActions.Approve,
                    ["style"] = "primary",
                    ["value"] = value,
                    ["text"] = PlainText("Approve"),
                },
                new JsonObject
                {
                    ["type"] = "button",
                    ["action_id"] = ApprovalActions.Reject,
                    ["style"] = "danger",
                    ["value"] = value,
                    ["text"] = PlainText("Reject"),
                    ["confirm"] = new JsonObject
                    {
                        ["title"] = PlainText("Reject this change?"),
                        ["text"] = PlainText(Truncate($"Rejecting {prompt.Step} stops onboarding {prompt.OnboardingId} of {prompt.Database}.", 300)),
                        ["confirm"] = PlainText("Reject"),
                        ["deny"] = PlainText("Keep waiting"),
                        ["style"] = "danger",
                    },
                },
            },
        };
    }

    private static string Outcome(ApprovalPromptView prompt) => prompt.State switch
    {
        ApprovalStates.Approved => $":white_check_mark: Approved by {string.Join(", ", prompt.ApprovedBy.Select(Person))}{At(prompt.DecidedAt)}",
        ApprovalStates.Rejected => $":no_entry_sign: Rejected by {Person(prompt.DecidedBy)}{At(prompt.DecidedAt)}",
        ApprovalStates.Expired => ":hourglass: Expired without a decision.",
        _ => ":heavy_minus_sign: Cancelled.",
    };

    private static string At(DateTimeOffset? at) => at is { } value ? " at " + Date(value) : "";

    private static string OnboardingList(IReadOnlyList<OnboardingSummary> list)
    {
        if (list.Count == 0)
        {
            return "_No active or recent onboardings._";
        }

        var lines = list.Select(o =>
            $"`{Escape(o.OnboardingId)}` `{Escape(o.Database)}` {Escape(o.State)}{(o.CurrentStep is { Length: > 0 } step ? $" ({Escape(step)})" : "")} — {Person(o.Requester)}, {Date(o.UpdatedAt)}").ToList();
        return JoinWithin(lines);
    }

    private static JsonArray PlanBlocks(PlanView plan)
    {
        var blocks = new JsonArray { Header(Truncate($"Plan for {plan.Database}", MaxHeaderText)) };
        if (plan.Target != plan.Database)
        {
            blocks.Add(Context($"Target instance: `{Escape(plan.Target)}`"));
        }

        foreach (var step in plan.Steps)
        {
            var head = $"*{Escape(step.Name)}*{(step.NeedsApproval ? " :raised_hand: needs approval" : "")}{(step.Detail is { Length: > 0 } d ? " — " + Escape(d) : "")}";
            var body = step.Changes.Count == 0 ? "_already in place / no change_" : Bullets(step.Changes, maxLines: 20);
            blocks.Add(Section(Truncate(head + "\n" + body, MaxSectionText)));
            if (step.Note is { Length: > 0 } note)
            {
                blocks.Add(Context(Escape(note)));
            }
        }

        if (plan.Unplanned is { } unplanned)
        {
            blocks.Add(Context(Escape(unplanned)));
        }

        return blocks;
    }

    /// <summary>Joins lines with newlines, cutting with "… and N more" before the section text limit.</summary>
    private static string JoinWithin(List<string> lines)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = Truncate(lines[i], MaxSectionText - 50);
            if (builder.Length + line.Length + 1 + (i < lines.Count - 1 ? 40 : 0) > MaxSectionText)
            {
                return builder.Append(CultureInfo.InvariantCulture, $"… and {lines.Count - i} more").ToString();
            }

            builder.Append(line).Append('\n');
        }

        return builder.ToString().TrimEnd('\n');
    }

    private static void AddAll(JsonArray target, JsonArray source)
    {
        foreach (var node in source.ToList())
        {
            source.Remove(node);
            target.Add(node);
        }
    }

    /// <summary>Keeps at most 50 blocks; the last one says how many were left out.</summary>
    private static JsonArray Limit(JsonArray blocks)
    {
        if (blocks.Count <= MaxBlocks)
        {
            return blocks;
        }

        var omitted = blocks.Count - (MaxBlocks - 1);
        var kept = new JsonArray();
        foreach (var node in blocks.Take(MaxBlocks - 1).ToList())
        {
            blocks.Remove(node);
            kept.Add(node);
        }

        kept.Add(Context(string.Create(CultureInfo.InvariantCulture, $"… and {omitted} more")));
        return kept;
    }
}
