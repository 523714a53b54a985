using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Slack;

/// <summary>Reports whether Slack is configured; names the missing keys and the API host, never a secret value.</summary>
internal sealed class SlackIntegrationStatus(IOptions<SlackOptions> options) : IIntegrationStatus
{
    public string Name => "Slack";

    public bool IsConfigured => options.Value.IsConfigured;

    public string Detail
    {
        get
        {
            var o = options.Value;
            var missing = new List<string>();
            if (string.IsNullOrWhiteSpace(o.SigningSecret)) missing.Add("Slack:SigningSecret");
            if (string.IsNullOrWhiteSpace(o.BotToken)) missing.Add("Slack:BotToken");
            return missing.Count == 0
                ? $"Web API at {o.ApiBaseUri.GetLeftPart(UriPartial.Authority)}"
                : $"set {string.Join(" and ", missing)}";
        }
    }
}
