using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// Small Block Kit building blocks that respect Slack's limits
/// (https://api.slack.com/reference/block-kit/blocks): section text ≤ 3000, header ≤ 150, button text ≤ 75.
/// </summary>
internal static class SlackBlockKit
{
    public const int MaxBlocks = 50;
    public const int MaxSectionText = 3000;
    public const int MaxHeaderText = 150;
    public const int MaxContextText = 2000;

    /// <summary>Escapes <c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c> and nothing else, as Slack asks for user text.</summary>
    public static string Escape(string? text) =>
        (text ?? string.Empty).Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal);

    public static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    public static JsonObject Header(string text) => new()
    {
        ["type"] = "header",
        ["text"] = PlainText(Truncate(text, MaxHeaderText)),
    };

    public static JsonObject Section(string mrkdwn) => new()
    {
        ["type"] = "section",
        ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = Truncate(string.IsNullOrEmpty(mrkdwn) ? " " : mrkdwn, MaxSectionText) },
    };

    public static JsonObject Context(string mrkdwn) => new()
    {
        ["type"] = "context",
        ["elements"] = new JsonArray(new JsonObject { ["type"] = "mrkdwn", ["text"] = Truncate(mrkdwn, MaxContextText) }),
    };

    public static JsonObject Divider() => new() { ["type"] = "divider" };

    public static JsonObject PlainText(string text) => new() { ["type"] = "plain_text", ["text"] = text };

    /// <summary>A person: a Slack mention for Slack users, otherwise the escaped display name.</summary>
    public static string Person(ChatUser? user) => user switch
    {
        null => "someone",
        { Platform: ChatPlatforms.Slack } => $"<@{user.Id}>",
        _ => Escape(user.DisplayName ?? user.Id),
    };

    /// <summary>Slack's localized date token with a UTC fallback (https://api.slack.com/reference/surfaces/formatting#date-formatting).</summary>
    public static string Date(DateTimeOffset at)
    {
        // Numeric fields rather than a custom date format string: the same text, without parsing the pattern each time
        // (status renders one per listed onboarding).
        var utc = at.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture,
            $"<!date^{at.ToUnixTimeSeconds()}^{{date_short_pretty}} at {{time}}|{utc.Year:D4}-{utc.Month:D2}-{utc.Day:D2} {utc.Hour:D2}:{utc.Minute:D2} UTC>");
    }

    /// <summary>
    /// Joins bullet lines into one section text of at most <see cref="MaxSectionText"/> characters (or <paramref name="maxLines"/>
    /// lines), ending with "… and N more" when lines had to be left out.
    /// </summary>
    public static string Bullets(IReadOnlyList<string> lines, int maxLines = 40)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < lines.Count; i++)
        {
            var line = Truncate("• " + Escape(lines[i]), MaxSectionText - 50);
            var remainingAfter = lines.Count - i - 1;
            var reserve = remainingAfter > 0 ? 40 : 0; // room for the "… and N more" line
            if (i >= maxLines || builder.Length + line.Length + 1 + reserve > MaxSectionText)
            {
                builder.Append(CultureInfo.InvariantCulture, $"… and {lines.Count - i} more");
                return builder.ToString();
            }

            builder.Append(line).Append('\n');
        }

        return builder.ToString().TrimEnd('\n');
    }
}
