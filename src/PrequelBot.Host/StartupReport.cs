using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host;

/// <summary>Logs one line per integration at start-up saying whether it is configured (never a secret).</summary>
internal sealed partial class StartupReport(
    IEnumerable<IIntegrationStatus> integrations,
    IOptions<ApprovalOptions> approvals,
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
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "{Integration}: configured ({Detail})")]
    private static partial void LogConfigured(ILogger logger, string integration, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Integration}: not configured ({Detail})")]
    private static partial void LogNotConfigured(ILogger logger, string integration, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Approvals: no approvers configured (Approvals:Approvers); every prompt will expire unanswered")]
    private static partial void LogNoApprovers(ILogger logger);

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
