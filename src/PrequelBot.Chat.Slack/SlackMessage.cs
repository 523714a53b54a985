using System.Text.Json.Nodes;

namespace PrequelBot.Chat.Slack;

/// <summary>A message body for Slack: plain <see cref="Text"/> (notification and fallback, always set) and Block Kit <see cref="Blocks"/>.</summary>
public sealed record SlackMessage(string Text, JsonArray Blocks)
{
    /// <summary>Slack's advice: keep the fallback text at most 4000 characters.</summary>
    public const int MaxTextLength = 4000;

    /// <summary>The fields shared by every message-carrying request (<c>text</c>, <c>blocks</c>), as a new JSON object.</summary>
    public JsonObject ToJson()
    {
        var text = Text.Length > MaxTextLength ? Text[..(MaxTextLength - 1)] + "…" : Text;
        return new JsonObject { ["text"] = text, ["blocks"] = Blocks.DeepClone() };
    }
}
