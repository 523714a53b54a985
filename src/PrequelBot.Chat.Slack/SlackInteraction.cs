using System.Text.Json;
using PrequelBot.Workflows.Chat;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// An Approve/Reject click read from a <c>block_actions</c> payload
/// (https://api.slack.com/reference/interaction-payloads/block-actions).
/// </summary>
public sealed record SlackApprovalClick(
    string ApprovalId,
    bool Approve,
    string UserId,
    string? UserName,
    string? ChannelId,
    string? MessageTs,
    string? ThreadTs,
    string? ResponseUrl);

/// <summary>What an interaction payload turned out to be.</summary>
public enum SlackInteractionKind
{
    /// <summary>Not JSON, not an object, or a click without a user: answer 400.</summary>
    Malformed,
    /// <summary>Another interaction type or another button: acknowledge and ignore.</summary>
    Ignored,
    /// <summary>A click on one of our approval buttons.</summary>
    ApprovalClick,
}

/// <summary>Parses the <c>payload</c> form field of <c>POST /slack/interactions</c>. Pure; never throws for bad input.</summary>
public static class SlackInteraction
{
    public static SlackInteractionKind Parse(string? payload, out SlackApprovalClick? click)
    {
        click = null;
        if (string.IsNullOrEmpty(payload))
        {
            return SlackInteractionKind.Malformed;
        }

        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return SlackInteractionKind.Malformed;
            }

            if (String(root, "type") != "block_actions")
            {
                return SlackInteractionKind.Ignored;
            }

            if (!root.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array)
            {
                return SlackInteractionKind.Malformed;
            }

            foreach (var action in actions.EnumerateArray())
            {
                var actionId = String(action, "action_id");
                var value = String(action, "value");
                if (actionId is not (ApprovalActions.Approve or ApprovalActions.Reject) || string.IsNullOrEmpty(value))
                {
                    continue;
                }

                var user = Object(root, "user");
                var userId = user is { } u ? String(u, "id") : null;
                if (string.IsNullOrEmpty(userId))
                {
                    return SlackInteractionKind.Malformed;
                }

                var container = Object(root, "container");
                var channel = Object(root, "channel");
                click = new SlackApprovalClick(
                    ApprovalId: value,
                    Approve: actionId == ApprovalActions.Approve,
                    UserId: userId,
                    UserName: user is { } named ? String(named, "username") ?? String(named, "name") : null,
                    ChannelId: (container is { } c ? String(c, "channel_id") : null) ?? (channel is { } ch ? String(ch, "id") : null),
                    MessageTs: container is { } c2 ? String(c2, "message_ts") : null,
                    ThreadTs: container is { } c3 ? String(c3, "thread_ts") : null,
                    ResponseUrl: String(root, "response_url"));
                return SlackInteractionKind.ApprovalClick;
            }

            return SlackInteractionKind.Ignored;
        }
        catch (JsonException)
        {
            return SlackInteractionKind.Malformed;
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static JsonElement? Object(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;
}
