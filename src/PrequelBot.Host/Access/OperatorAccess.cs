using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace PrequelBot.Host.Access;

/// <summary><c>Dashboard</c> section (docs/security.md, "Dashboard"): who may open operator pages.</summary>
public sealed class DashboardAccessOptions
{
    public const string Section = "Dashboard";

    /// <summary>With <see cref="Password"/>: HTTP Basic from any address. Without both: loopback requests without proxy headers only.</summary>
    public string? Username { get; set; }

    /// <summary>A secret: environment variable <c>Dashboard__Password</c>; never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Whether Basic users get a read-only dashboard (no delete, requeue or trigger buttons). Default true.</summary>
    public bool ReadOnly { get; set; } = true;

    public bool UsesBasic => !string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password);
}

/// <summary>Fails start-up when only one of <c>Dashboard:Username</c> and <c>Dashboard:Password</c> is set.</summary>
internal sealed class DashboardAccessOptionsValidator : IValidateOptions<DashboardAccessOptions>
{
    public ValidateOptionsResult Validate(string? name, DashboardAccessOptions options) =>
        string.IsNullOrEmpty(options.Username) != string.IsNullOrEmpty(options.Password)
            ? ValidateOptionsResult.Fail("Dashboard:Username and Dashboard:Password must be set together (or neither, for loopback-only access).")
            : options.Username?.Contains(':', StringComparison.Ordinal) == true
                ? ValidateOptionsResult.Fail("Dashboard:Username must not contain ':' (HTTP Basic separates it from the password with one).")
                : ValidateOptionsResult.Success;
}

/// <summary>What <see cref="OperatorAccess.Check"/> decided.</summary>
public enum OperatorAccessDecision
{
    /// <summary>Served, read-write.</summary>
    Allowed,
    /// <summary>Served, read-only.</summary>
    AllowedReadOnly,
    /// <summary>Basic credentials are configured and missing or wrong: 401 with a <c>WWW-Authenticate</c> challenge.</summary>
    Challenge,
    /// <summary>No credentials configured and the request is not a direct loopback request: 403.</summary>
    Forbidden,
}

/// <summary>
/// The one rule for operator pages (the Hangfire dashboard, and any metrics page that wants it), docs/security.md,
/// "Dashboard": with <c>Dashboard:Username</c>/<c>Password</c>, HTTP Basic from anywhere, compared in constant time;
/// otherwise only requests from a loopback address carrying no proxy header (<c>X-Forwarded-For</c>, <c>Forwarded</c>,
/// <c>X-Real-IP</c>), because a reverse proxy on the same host makes every internet request look local.
/// </summary>
public sealed class OperatorAccess(IOptionsMonitor<DashboardAccessOptions> options)
{
    /// <summary>Headers a reverse proxy adds; any one of them means the request did not start on this machine.</summary>
    public static readonly IReadOnlyList<string> ProxyHeaders = ["X-Forwarded-For", "Forwarded", "X-Real-IP"];

    public const string Challenge = "Basic realm=\"PrequelBot operators\", charset=\"UTF-8\"";

    public OperatorAccessDecision Check(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var current = options.CurrentValue;
        if (current.UsesBasic)
        {
            return HasCredentials(context.Request.Headers.Authorization.ToString(), current.Username!, current.Password!)
                ? current.ReadOnly ? OperatorAccessDecision.AllowedReadOnly : OperatorAccessDecision.Allowed
                : OperatorAccessDecision.Challenge;
        }
        return IsDirectLoopback(context) ? OperatorAccessDecision.Allowed : OperatorAccessDecision.Forbidden;
    }

    /// <summary>
    /// Answers a refused request (401 with the challenge, or 403) and returns false; returns true when the request may
    /// go on. For middleware in front of an operator page.
    /// </summary>
    public async Task<bool> AdmitAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (Check(context))
        {
            case OperatorAccessDecision.Challenge:
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = Challenge;
                await context.Response.WriteAsync("Operator credentials required.").ConfigureAwait(false);
                return false;
            case OperatorAccessDecision.Forbidden:
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("Operator pages are served only to local requests (or set Dashboard:Username and Dashboard:Password).").ConfigureAwait(false);
                return false;
            default:
                return true;
        }
    }

    public static bool IsDirectLoopback(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote)) return false;
        return !ProxyHeaders.Any(h => context.Request.Headers.ContainsKey(h));
    }

    private static bool HasCredentials(string authorization, string username, string password)
    {
        const string scheme = "Basic ";
        if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        byte[] decoded;
        try
        {
            decoded = Convert.FromBase64String(authorization[scheme.Length..].Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        var expected = Encoding.UTF8.GetBytes(username + ":" + password);
        // Constant time over the whole "user:password", so neither part leaks through timing.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(decoded), SHA256.HashData(expected));
    }
}
