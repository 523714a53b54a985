using System.Text.RegularExpressions;

namespace PrequelBot.Aws.Steps;

/// <summary>
/// Makes an AWS error message fit for chat: ARNs and 12-digit account ids removed, the encoded authorization message of
/// EC2's <c>UnauthorizedOperation</c> dropped, whitespace collapsed, at most <see cref="MaxLength"/> characters.
/// The full text goes to the log only (docs/aws.md, "Errors").
/// </summary>
public static partial class AwsErrorText
{
    public const int MaxLength = 200;

    public const string ArnPlaceholder = "<arn>";
    public const string AccountPlaceholder = "<account>";

    public static string Sanitize(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return "no message";
        }
        var text = EncodedAuthorizationMessage().Replace(message, "(encoded authorization message in the PrequelBot log)");
        text = Arn().Replace(text, ArnPlaceholder);
        text = AccountId().Replace(text, AccountPlaceholder);
        text = Whitespace().Replace(text, " ").Trim();
        return text.Length <= MaxLength ? text : text[..(MaxLength - 1)].TrimEnd() + "…";
    }

    // arn:partition:service:region:account:resource; the resource part may hold ':' and '/' but not spaces or quotes.
    [GeneratedRegex(@"arn:aws[a-z-]*:[^\s""'<>,;()\[\]{}]*", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Arn();

    [GeneratedRegex(@"(?<![0-9])[0-9]{12}(?![0-9])", RegexOptions.CultureInvariant)]
    private static partial Regex AccountId();

    [GeneratedRegex(@"Encoded authorization failure message:\s*\S+", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex EncodedAuthorizationMessage();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();
}
