using System.Net;
using System.Text.RegularExpressions;

namespace PrequelBot.Chat.Teams;

/// <summary>Turns a Teams message's text into command text: bot mention removed, HTML entities decoded, trimmed.</summary>
internal static partial class MessageText
{
    public static string ToCommandText(Activity activity)
    {
        var text = activity.Text ?? "";
        var botId = activity.Recipient?.Id;
        foreach (var mention in activity.Entities ?? [])
        {
            if (string.Equals(mention.Type, "mention", StringComparison.OrdinalIgnoreCase) &&
                botId is not null && string.Equals(mention.Mentioned?.Id, botId, StringComparison.OrdinalIgnoreCase) &&
                !string.IsNullOrEmpty(mention.Text))
            {
                text = text.Replace(mention.Text, " ", StringComparison.Ordinal);
            }
        }
        // A leading mention whose entity did not come along (some clients) is ignored too (README, "The command language").
        text = LeadingMention().Replace(text, " ");
        text = WebUtility.HtmlDecode(text).Replace('\u00A0', ' ');
        return Whitespace().Replace(text, " ").Trim();
    }

    [GeneratedRegex(@"^\s*<at>[^<]*</at>", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LeadingMention();

    [GeneratedRegex(@"[ \t]+")]
    private static partial Regex Whitespace();
}
