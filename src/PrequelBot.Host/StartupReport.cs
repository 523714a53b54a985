using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PrequelBot.Chat.Slack;
using PrequelBot.Chat.Teams;
using PrequelBot.Host.Access;
using PrequelBot.State.Secrets;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host;

/// <summary>Logs one line per integration at start-up saying whether it is configured (never a secret).</summary>
internal sealed partial class StartupReport(
    IEnumerable<IIntegrationStatus> integrations,
    IOptions<ApprovalOptions> approvals,
    IOptions<SlackOptions> slack,
    IOptions<TeamsOptions> teams,
    IOptions<DashboardAccessOptions> dashboard,
    IOptions<KeyRingOptions> keyRing,
    ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var integration in integrations.OrderBy(i => i.Name, StringComparer.Ordinal))
        {
            if (integration.IsConfigured) LogConfigured(logger, integration.Name, integration.Detail);
            else LogNotConfigured(logger, integration.Name, integration.Detail);
        }
        var a = approvals.Value;
        if (a.Approvers.Count == 0) LogNoApprovers(logger);
        else LogApprovers(logger, a.Approvers.Count, a.AllowSelfApproval, a.Timeout);
        if (a.Requesters.Count == 0) LogAnyRequester(logger);
        // Tenancy (docs/security.md, "Tenancy"): one warning per open platform.
        if (slack.Value.AllowedTeamIds.Count == 0) LogAnyWorkspace(logger);
        if (teams.Value.AllowedTenantIds.Count == 0 && string.IsNullOrWhiteSpace(teams.Value.TenantId)) LogAnyTenant(logger);
        if (dashboard.Value.UsesBasic) LogDashboardBasic(logger, dashboard.Value.ReadOnly);
        else LogDashboardLocal(logger);
        if (keyRing.Value.UsesKms) LogKeyRing(logger, "AWS KMS (DataProtection:KmsKeyId)");
        else if (keyRing.Value.UsesCertificate) LogKeyRing(logger, "a certificate (DataProtection:CertificatePath)");
        else LogKeyRingUnencrypted(logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "{Integration}: configured ({Detail})")]
    private static partial void LogConfigured(ILogger logger, string integration, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Integration}: not configured ({Detail})")]
    private static partial void LogNotConfigured(ILogger logger, string integration, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Approvals: no approvers configured (Approvals:Approvers); every prompt will expire unanswered")]
    private static partial void LogNoApprovers(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Approvals: no Approvals:Requesters; anyone in an allowed workspace or tenant may connect, retry and cancel")]
    private static partial void LogAnyRequester(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack: Slack:AllowedTeamIds is empty; requests from any workspace that holds the app are served")]
    private static partial void LogAnyWorkspace(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Teams: Teams:AllowedTenantIds and Teams:TenantId are empty; activities from any tenant are served")]
    private static partial void LogAnyTenant(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Data Protection: the key ring is encrypted at rest with {Protection}")]
    private static partial void LogKeyRing(ILogger logger, string protection);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data Protection: the key ring is stored unencrypted next to the secrets it protects; set DataProtection:KmsKeyId or DataProtection:CertificatePath")]
    private static partial void LogKeyRingUnencrypted(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard: HTTP Basic from any address (read-only: {ReadOnly})")]
    private static partial void LogDashboardBasic(ILogger logger, bool readOnly);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard: direct loopback requests only (set Dashboard:Username and Dashboard:Password for remote access)")]
    private static partial void LogDashboardLocal(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Approvals: {Count} approvers, self-approval {SelfApproval}, prompts expire after {Timeout}")]
    private static partial void LogApprovers(ILogger logger, int count, bool selfApproval, TimeSpan timeout);
}

/// <summary>Turns start-up exceptions into one line.</summary>
internal static class StartupErrors
{
    public static string OneLine(Exception e) => e switch
    {
        OptionsValidationException v => string.Join(" ", v.Failures),
        AggregateException a when a.InnerExceptions.Count > 0 => string.Join(" ", a.InnerExceptions.Select(OneLine)),
        _ => (e.InnerException is { } inner && e.Message.StartsWith("Failed to convert", StringComparison.Ordinal)
                ? $"{e.Message} {inner.Message}"
                : e.Message).ReplaceLineEndings(" "),
    };
}
