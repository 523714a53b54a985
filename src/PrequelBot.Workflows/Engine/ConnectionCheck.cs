using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>What <c>check</c> found for a connected database.</summary>
/// <param name="ConnectOnboardingId">The last completed connect.</param>
/// <param name="Findings">In the order of the adapters, each line <c>ok …</c> or <c>drift: …</c>.</param>
public sealed record CheckReport(string ConnectOnboardingId, IReadOnlyList<CheckFinding> Findings)
{
    public bool Drifted => Findings.Any(f => !f.Ok);
}

/// <summary>
/// <c>check &lt;db&gt;</c> (docs/workflow.md, "Check"): finds the database's connection in the state store and runs every
/// adapter's <see cref="IConnectionCheck"/> against it. Read-only end to end — it saves nothing and changes nothing —
/// so it runs directly from the command (or the drift job) rather than as a step job; killing it leaves nothing behind.
/// </summary>
public sealed partial class ConnectionCheck(ConnectionRecords connections, IEnumerable<IConnectionCheck> checks, ILogger<ConnectionCheck> logger)
{
    /// <summary>The findings, or null when no connect of <paramref name="databaseAlias"/> completed since its last disconnect.</summary>
    public async Task<CheckReport?> RunAsync(string databaseAlias, CancellationToken cancellationToken)
    {
        var connection = await connections.FindAsync(databaseAlias, cancellationToken).ConfigureAwait(false);
        return connection is null ? null : await RunAsync(databaseAlias, connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The findings for a connection already found.</summary>
    public async Task<CheckReport> RunAsync(string databaseAlias, Connection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var connect = connection.LastConnect.Onboarding;
        var context = new ConnectionCheckContext(connect.Id, connect.Request, connect.Facts, connection.Changes);
        List<CheckFinding> findings = [];
        foreach (var check in checks)
        {
            try
            {
                findings.AddRange(await check.CheckAsync(context, cancellationToken).ConfigureAwait(false));
            }
            catch (StepFailedException e)
            {
                findings.Add(CheckFinding.NotChecked(check.Area, $": {e.Message}"));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
#pragma warning disable CA1031 // One adapter failing must not hide the others' findings; the full error goes to the log only.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogCheckFailed(logger, e, check.Area, databaseAlias);
                findings.Add(CheckFinding.NotChecked(check.Area, $" ({e.GetType().Name}; see the bot's log)"));
            }
        }
        return new CheckReport(connect.Id, findings);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "check of {Database}: the {Area} check failed")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception, string area, string database);
}
