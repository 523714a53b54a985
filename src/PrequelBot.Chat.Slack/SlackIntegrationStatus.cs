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
            if (string.IsNullOrWhiteSpace(o.SigningSecret) && !o.UsesSocketMode) missing.Add("Slack:SigningSecret (or Slack:AppToken for Socket Mode)");
            if (string.IsNullOrWhiteSpace(o.BotToken)) missing.Add("Slack:BotToken");
            var inbound = o.UsesSocketMode
                ? string.IsNullOrWhiteSpace(o.SigningSecret) ? "Socket Mode" : "Socket Mode and HTTP"
                : "HTTP";
            return missing.Count == 0
                ? $"Web API at {o.ApiBaseUri.GetLeftPart(UriPartial.Authority)}, inbound over {inbound}"
                : $"set {string.Join(" and ", missing)}";
        }
    }
}
