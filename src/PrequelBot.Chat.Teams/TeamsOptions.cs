using Microsoft.Extensions.Options;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Configuration section <c>Teams</c> (README, "Settings"). The integration is configured when <see cref="AppId"/> and
/// <see cref="AppPassword"/> are both set; missing values are not an error, present-but-invalid URLs stop start-up.
/// </summary>
public sealed class TeamsOptions
{
    public const string SectionName = "Teams";
    public const string DefaultOpenIdMetadataUrl = "https://login.botframework.com/v1/.well-known/openidconfiguration";
    public const string DefaultTokenEndpointTemplate = "https://login.microsoftonline.com/{0}/oauth2/v2.0/token";

    /// <summary>Bot registration (client) id; the inbound token audience.</summary>
    public string? AppId { get; set; }

    /// <summary>Client secret. Secret: never logged, never shown.</summary>
    public string? AppPassword { get; set; }

    /// <summary>Set for a single-tenant bot; empty means multi-tenant.</summary>
    public string? TenantId { get; set; }

    /// <summary>
    /// Entra tenant ids whose activities are served (docs/security.md, "Tenancy"); <see cref="TenantId"/> is allowed
    /// implicitly. Empty with no <see cref="TenantId"/>: any tenant (a warning at start-up).
    /// </summary>
    public List<string> AllowedTenantIds { get; set; } = [];

    /// <summary>Where inbound token signing keys come from.</summary>
    public string OpenIdMetadataUrl { get; set; } = DefaultOpenIdMetadataUrl;

    /// <summary>Where outbound tokens come from. When not set: the Microsoft endpoint of <see cref="TenantId"/> or <c>botframework.com</c>.</summary>
    public string? TokenEndpoint { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(AppId) && !string.IsNullOrWhiteSpace(AppPassword);

    /// <summary>The token endpoint in effect: <see cref="TokenEndpoint"/> when given, else derived from <see cref="TenantId"/>.</summary>
    public string EffectiveTokenEndpoint => !string.IsNullOrWhiteSpace(TokenEndpoint)
        ? TokenEndpoint
        : DefaultTokenEndpointTemplate.Replace("{0}",
            string.IsNullOrWhiteSpace(TenantId) ? "botframework.com" : Uri.EscapeDataString(TenantId.Trim()), StringComparison.Ordinal);

    internal static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

/// <summary>Fails start-up with one line naming the key when a present value is invalid.</summary>
internal sealed class TeamsOptionsValidator : IValidateOptions<TeamsOptions>
{
    public ValidateOptionsResult Validate(string? name, TeamsOptions options)
    {
        var failures = new List<string>();
        if (!TeamsOptions.IsHttpUrl(options.OpenIdMetadataUrl))
            failures.Add("Teams:OpenIdMetadataUrl must be an absolute http(s) URL");
        if (!string.IsNullOrWhiteSpace(options.TokenEndpoint) && !TeamsOptions.IsHttpUrl(options.TokenEndpoint))
            failures.Add("Teams:TokenEndpoint must be an absolute http(s) URL");
        if (!string.IsNullOrWhiteSpace(options.TenantId) && !IsTenant(options.TenantId.Trim()))
            failures.Add("Teams:TenantId must be a GUID or a domain name");
        for (var i = 0; i < options.AllowedTenantIds.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(options.AllowedTenantIds[i]) || !IsTenant(options.AllowedTenantIds[i].Trim()))
                failures.Add($"Teams:AllowedTenantIds:{i} must be an Entra tenant id (a GUID) or a domain name");
        }
        if (!string.IsNullOrWhiteSpace(options.AppPassword) && string.IsNullOrWhiteSpace(options.AppId))
            failures.Add("Teams:AppId must be set when Teams:AppPassword is set");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsTenant(string value) =>
        Guid.TryParse(value, out _) || (value.Length <= 253 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'));
}
