using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Prequel;

/// <summary>Start-up validation of the <c>Prequel</c> section: each failure names its key. A missing ApiKey is fine (not configured).</summary>
public sealed class PrequelOptionsValidator : IValidateOptions<PrequelOptions>
{
    public ValidateOptionsResult Validate(string? name, PrequelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            failures.Add("Prequel:BaseUrl must be an absolute http(s) URL");
        }
        if (!PrequelOptions.SupportedApiVersions.Contains(options.ApiVersion, StringComparer.Ordinal))
        {
            failures.Add($"Prequel:ApiVersion must be one of {string.Join(", ", PrequelOptions.SupportedApiVersions)}");
        }
        for (var i = 0; i < options.StaticIps.Count; i++)
        {
            if (!IPAddress.TryParse(options.StaticIps[i]?.Trim(), out var ip) || ip.AddressFamily != AddressFamily.InterNetwork)
            {
                failures.Add($"Prequel:StaticIps:{i} must be an IPv4 address");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
