using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel;

/// <summary>"Prequel": configured when Prequel:ApiKey is set; detail = base URL, environment and API version (never the key).</summary>
public sealed class PrequelIntegrationStatus(IOptions<PrequelOptions> options) : IIntegrationStatus
{
    public string Name => "Prequel";

    public bool IsConfigured => !string.IsNullOrWhiteSpace(options.Value.ApiKey);

    public string Detail => IsConfigured
        ? $"{options.Value.BaseUrl} ({PrequelEnvironment.FromApiKey(options.Value.ApiKey)}, API version {options.Value.ApiVersion})"
        : $"set Prequel:ApiKey; base URL {options.Value.BaseUrl}";
}
