using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel;

/// <summary><c>Prequel</c> section (README, "Settings"). The AWS steps see the static IPs through <see cref="IPrequelEgress"/>.</summary>
public sealed class PrequelOptions
{
    public const string Section = "Prequel";

    /// <summary>API base, default <c>https://api.prequel.co</c>.</summary>
    [Required]
    public string BaseUrl { get; set; } = "https://api.prequel.co";

    /// <summary>Sent as <c>X-API-KEY</c>. A secret: environment variable <c>Prequel__ApiKey</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Sent as <c>X-Prequel-Api-Version</c>; selects the body shape (<c>2023-12-01</c> or <c>2022-01-01</c>).</summary>
    public string ApiVersion { get; set; } = "2023-12-01";

    /// <summary>Prequel's static IPv4 addresses for this account.</summary>
    public List<string> StaticIps { get; set; } = [];

    public static readonly IReadOnlyList<string> SupportedApiVersions = ["2023-12-01", "2022-01-01"];
}

/// <summary>Validates <c>Prequel</c>: every message names its key.</summary>
public sealed class PrequelOptionsValidator : IValidateOptions<PrequelOptions>
{
    public ValidateOptionsResult Validate(string? name, PrequelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!SettingChecks.IsHttpUrl(options.BaseUrl))
            failures.Add($"Prequel:BaseUrl must be an absolute http(s) URL (got '{options.BaseUrl}').");
        if (!PrequelOptions.SupportedApiVersions.Contains(options.ApiVersion))
            failures.Add($"Prequel:ApiVersion must be one of {string.Join(", ", PrequelOptions.SupportedApiVersions)} (got '{options.ApiVersion}').");
        for (var i = 0; i < options.StaticIps.Count; i++)
        {
            var value = options.StaticIps[i]?.Trim() ?? "";
            if (!IPAddress.TryParse(value, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork || value.Count(c => c == '.') != 3)
                failures.Add($"Prequel:StaticIps:{i} must be an IPv4 address like 35.192.85.117 (got '{value}').");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary><see cref="IPrequelEgress"/> from <c>Prequel:StaticIps</c>, read fresh on each call.</summary>
public sealed class PrequelEgress(IOptionsMonitor<PrequelOptions> options) : IPrequelEgress
{
    public IReadOnlyList<IPAddress> StaticIps() => Parse(options.CurrentValue.StaticIps);

    /// <summary>The distinct IPv4 addresses of <paramref name="values"/>; a step failure naming the setting otherwise.</summary>
    public static IReadOnlyList<IPAddress> Parse(IEnumerable<string?> values)
    {
        var ips = values.Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s!.Trim()).ToList();
        if (ips.Count == 0)
            throw new StepFailedException("Prequel:StaticIps is not configured: set Prequel's static IPv4 addresses for this account");
        List<IPAddress> parsed = [];
        foreach (var ip in ips)
        {
            if (!IPAddress.TryParse(ip, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
                throw new StepFailedException($"Prequel:StaticIps contains \"{ip}\", which is not an IPv4 address");
            parsed.Add(address);
        }
        return [.. parsed.Distinct()];
    }
}
