using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Teams;

/// <summary>Says whether Teams is configured; names endpoints, never secrets.</summary>
internal sealed class TeamsIntegrationStatus(IOptions<TeamsOptions> options) : IIntegrationStatus
{
    public string Name => "Teams";

    public bool IsConfigured => options.Value.IsConfigured;

    public string Detail => IsConfigured
        ? $"app {options.Value.AppId}; keys from {options.Value.OpenIdMetadataUrl}; tokens from {options.Value.EffectiveTokenEndpoint}"
        : "set Teams:AppId and Teams:AppPassword";
}
