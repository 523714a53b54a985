using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace PrequelBot.Aws;

/// <summary><c>Aws</c> section (README, "Settings"). Credentials are never configured here: the AWS SDK default chain supplies them.</summary>
public sealed class AwsOptions
{
    public const string Section = "Aws";

    /// <summary>Region of the databases, e.g. <c>eu-west-1</c>. Empty = the SDK default chain (<c>AWS_REGION</c>, profile, instance metadata).</summary>
    public string? Region { get; set; }

    /// <summary>One endpoint for both RDS and EC2 (moto, LocalStack). When set, requests are signed for <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }
}

/// <summary>A present-but-invalid value fails start-up with a message naming the key.</summary>
internal sealed partial class AwsOptionsValidator : IValidateOptions<AwsOptions>
{
    public ValidateOptionsResult Validate(string? name, AwsOptions options)
    {
        List<string> failures = [];
        if (!string.IsNullOrWhiteSpace(options.ServiceUrl) &&
            !(Uri.TryCreate(options.ServiceUrl.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            failures.Add("Aws:ServiceUrl must be an absolute http(s) URL");
        }
        if (!string.IsNullOrWhiteSpace(options.Region) && !RegionName().IsMatch(options.Region.Trim()))
        {
            failures.Add("Aws:Region must be an AWS region name such as us-east-1");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex RegionName();
}
