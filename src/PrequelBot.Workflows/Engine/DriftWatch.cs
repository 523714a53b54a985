using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;
using PrequelBot.Workflows.Telemetry;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// The drift watch (docs/workflow.md, "Drift"): every <c>Drift:Interval</c> it runs <c>check</c> for each connected
/// database and, only when the set of drift findings differs from the last check's, stores one notice for the channel
/// the database was connected from. It changes nothing anywhere but its own record; the chat layer posts the notice.
/// </summary>
public sealed partial class DriftWatch(
    IOptionsMonitor<DriftOptions> options,
    IOptionsMonitor<DatabasesOptions> databases,
    IDriftStore drift,
    ILeaseStore leases,
    ConnectionRecords connections,
    ConnectionCheck check,
    TimeProvider time,
    ILogger<DriftWatch> logger)
{
    /// <summary>
    /// One sweep: claims every configured database whose check is due (never checked, or its due time has passed; at most
    /// one node claims each due time) and lists the databases whose last notice has not reached chat. Nothing when the
    /// watch is off. One query for the records, plus one compare-and-set per due database.
    /// </summary>
    public async Task<DriftSweep> SweepAsync(CancellationToken cancellationToken)
    {
        var interval = options.CurrentValue.Interval;
        if (interval <= TimeSpan.Zero) return new DriftSweep([], []);
        var now = time.GetUtcNow();
        var records = (await drift.ListDriftAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(r => r.DatabaseKey, StringComparer.Ordinal);
        List<string> due = [];
        List<string> pending = [];
        foreach (var alias in databases.CurrentValue.Entries.Keys.Select(k => k.ToLowerInvariant()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            records.TryGetValue(alias, out var record);
            if (record is { NoticePending: true }) pending.Add(alias);
            if (record is { DueAt: { } at } && at > now) continue;
            if (await drift.TryClaimDriftCheckAsync(alias, now, now + interval, cancellationToken).ConfigureAwait(false)) due.Add(alias);
        }
        return new DriftSweep(due, pending);
    }

    /// <summary>
    /// Checks one database. Returns true when a notice waits for chat (a new one, or an earlier one that never got
    /// there). A database that is not connected, or has an onboarding in progress, is skipped.
    /// </summary>
    public async Task<bool> CheckAsync(string databaseAlias, CancellationToken cancellationToken)
    {
        var owner = Ids.NewLeaseOwner();
        var lease = "drift-check:" + databaseAlias;
        // One check of a database at a time (a Hangfire retry, a slow check overtaken by the next due time).
        if (!await leases.TryAcquireLeaseAsync(lease, owner, time.GetUtcNow() + CheckLease, cancellationToken).ConfigureAwait(false))
        {
            LogSkipped(logger, databaseAlias, "another check of it is running");
            return false;
        }
        try
        {
            return await CheckHeldAsync(databaseAlias, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await leases.ReleaseLeaseAsync(lease, owner, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>How long one check may hold its database's lease (a node that dies frees it after this).</summary>
    public static readonly TimeSpan CheckLease = TimeSpan.FromMinutes(10);

    private async Task<bool> CheckHeldAsync(string databaseAlias, CancellationToken cancellationToken)
    {
        var previous = await drift.GetDriftAsync(databaseAlias, cancellationToken).ConfigureAwait(false);
        var connection = await connections.FindAsync(databaseAlias, cancellationToken).ConfigureAwait(false);
        if (connection is null)
        {
            LogSkipped(logger, databaseAlias, "it is not connected");
            return previous?.NoticePending ?? false;
        }
        if (connection.ActiveOnboardingId is { } active)
        {
            // A disconnect or rotate in progress changes what the check compares: its findings would be noise.
            LogSkippedActive(logger, databaseAlias, active);
            return previous?.NoticePending ?? false;
        }

        var report = await check.RunAsync(databaseAlias, connection, cancellationToken).ConfigureAwait(false);
        var findings = report.Findings.Where(f => !f.Ok).Select(f => f.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        // A new connect starts from "everything ok": it was verified when it completed.
        IReadOnlyList<string> before = previous is not null && previous.ConnectOnboardingId == report.ConnectOnboardingId ? previous.Findings : [];
        PrequelBotTelemetry.RecordDriftCheck(findings.Count > 0);
        var dueAt = previous?.DueAt ?? time.GetUtcNow() + options.CurrentValue.Interval;
        var now = time.GetUtcNow();
        if (before.SequenceEqual(findings, StringComparer.Ordinal))
        {
            LogUnchanged(logger, databaseAlias, findings.Count);
            await drift.SaveDriftAsync(new DriftRecord(databaseAlias, report.ConnectOnboardingId, findings, now,
                previous?.Notice, previous?.NoticeSequence ?? 0, previous?.NoticePostedSequence ?? 0) { DueAt = dueAt }, cancellationToken).ConfigureAwait(false);
            return previous?.NoticePending ?? false;
        }

        var notice = Notice(databaseAlias, report, before.Count > 0);
        var sequence = (previous?.NoticeSequence ?? 0) + 1;
        LogChanged(logger, databaseAlias, before.Count, findings.Count, sequence);
        await drift.SaveDriftAsync(new DriftRecord(databaseAlias, report.ConnectOnboardingId, findings, now,
            notice, sequence, previous?.NoticePostedSequence ?? 0) { DueAt = dueAt }, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// The message for the channel: what drifted now (every <c>drift:</c> line), or that nothing does any more. An area
    /// that could not be checked is named without its error text (which may quote an ARN; the log has it).
    /// </summary>
    public static string Notice(string databaseAlias, CheckReport report, bool driftedBefore)
    {
        ArgumentNullException.ThrowIfNull(report);
        var drifted = report.Findings.Where(f => !f.Ok).Select(f => f.Key).Distinct(StringComparer.Ordinal).ToList();
        if (drifted.Count == 0)
            return $"{databaseAlias}: no drift any more; every check ok (connected by {report.ConnectOnboardingId}).";
        var head = driftedBefore
            ? $"Drift on {databaseAlias} (connected by {report.ConnectOnboardingId}) changed; now:"
            : $"Drift on {databaseAlias} (connected by {report.ConnectOnboardingId}):";
        return head + "\n" + string.Join('\n', drifted)
            + $"\nRun `check {databaseAlias}` for every line; `connect {databaseAlias}` plans what would put it back.";
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift check of {Database} skipped: onboarding {OnboardingId} of it is in progress")]
    private static partial void LogSkippedActive(ILogger logger, string database, string onboardingId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift check of {Database} skipped: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string database, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift check of {Database}: {Count} drift finding(s), as at the last check; nothing to post")]
    private static partial void LogUnchanged(ILogger logger, string database, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Drift check of {Database}: drift findings changed from {Before} to {After}; notice {Sequence} for chat")]
    private static partial void LogChanged(ILogger logger, string database, int before, int after, long sequence);
}

/// <summary>What a sweep found: databases claimed for a check now, and databases whose last notice waits for chat.</summary>
public sealed record DriftSweep(IReadOnlyList<string> Due, IReadOnlyList<string> NoticesPending);
