namespace PrequelBot.Workflows.Ports;

/// <summary>
/// What the drift watch remembers per database (docs/workflow.md, "Drift"): when it is next due, the drift findings of the
/// last check, and the notice about a change of them until chat has it.
/// </summary>
public interface IDriftStore
{
    /// <summary>
    /// Claims the drift check of <paramref name="databaseKey"/> when it is due (never checked, or its due time is not after
    /// <paramref name="now"/>) by moving its due time to <paramref name="nextDue"/> (compare-and-set). True for exactly one
    /// caller per due time, across nodes.
    /// </summary>
    Task<bool> TryClaimDriftCheckAsync(string databaseKey, DateTimeOffset now, DateTimeOffset nextDue, CancellationToken cancellationToken);

    /// <summary>The database's drift record, or null when it was never checked.</summary>
    Task<DriftRecord?> GetDriftAsync(string databaseKey, CancellationToken cancellationToken);

    /// <summary>Every database's drift record, by key (one query: the sweep's look at what is due and what waits for chat).</summary>
    Task<IReadOnlyList<DriftRecord>> ListDriftAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores the outcome of a check: the connect it checked, the drift findings, when, and the notice to post (if any),
    /// keeping the due time. A notice replaces one not yet posted.
    /// </summary>
    Task SaveDriftAsync(DriftRecord record, CancellationToken cancellationToken);

    /// <summary>Records that notice <paramref name="noticeSequence"/> reached chat; an older sequence never undoes a newer one.</summary>
    Task MarkDriftNoticePostedAsync(string databaseKey, long noticeSequence, CancellationToken cancellationToken);
}

/// <summary>
/// One database's drift state. <paramref name="Findings"/> are the comparison keys of the last check's <c>drift:</c>
/// findings, sorted (empty = everything ok). <paramref name="NoticeSequence"/> counts notices; the one with that number,
/// <paramref name="Notice"/>, is in chat once <paramref name="NoticePostedSequence"/> reaches it.
/// <paramref name="ConnectOnboardingId"/> is empty until the first check of a connection.
/// </summary>
public sealed record DriftRecord(
    string DatabaseKey,
    string ConnectOnboardingId,
    IReadOnlyList<string> Findings,
    DateTimeOffset CheckedAt,
    string? Notice,
    long NoticeSequence,
    long NoticePostedSequence)
{
    /// <summary>When the next check is due (as claimed by <see cref="IDriftStore.TryClaimDriftCheckAsync"/>); read only.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>True when the latest notice has not reached chat yet.</summary>
    public bool NoticePending => Notice is not null && NoticePostedSequence < NoticeSequence;
}
