using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Ports;

/// <summary>
/// Onboardings with their steps and approvals, and the audit trail. Every method is safe to call concurrently from
/// several workers and, with PostgreSQL, several processes.
/// </summary>
public interface IOnboardingStore
{
    /// <summary>
    /// Stores a new onboarding with its steps (version 1) and <see cref="OnboardingAggregate.NewEvents"/>, atomically.
    /// Throws <see cref="ActiveOnboardingExistsException"/> when the database already has an active onboarding.
    /// </summary>
    Task CreateAsync(OnboardingAggregate aggregate, CancellationToken cancellationToken);

    /// <summary>The onboarding with its steps and approvals, or null.</summary>
    Task<OnboardingAggregate?> LoadAsync(string onboardingId, CancellationToken cancellationToken);

    /// <summary>
    /// Saves the aggregate if its stored version still equals <paramref name="expectedVersion"/> (compare-and-set), then
    /// sets <see cref="Onboarding.Version"/> to the new version and appends <see cref="OnboardingAggregate.NewEvents"/>,
    /// atomically. Returns false, changing nothing, when someone else saved first. Throws
    /// <see cref="ActiveOnboardingExistsException"/> when the save would make a second active onboarding of one database.
    /// </summary>
    Task<bool> TrySaveAsync(OnboardingAggregate aggregate, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>The onboarding id an approval belongs to, or null.</summary>
    Task<string?> FindOnboardingIdByApprovalAsync(string approvalId, CancellationToken cancellationToken);

    /// <summary>
    /// Active onboardings, then the most recently updated finished ones, up to <paramref name="limit"/> in all, each with
    /// the name of its first step (by ordinal) that is not done. One query, so <c>status</c> (a hot path) loads no aggregate.
    /// </summary>
    Task<IReadOnlyList<OnboardingListing>> ListRecentWithCurrentStepAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Ids of onboardings that are not finished (for the reconciler).</summary>
    Task<IReadOnlyList<string>> ListActiveIdsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Ids of onboardings with a step in state running, i.e. held by a worker's lease: the reconciler's lease watch asks
    /// this every tick, so it is one indexed query returning few rows.
    /// </summary>
    Task<IReadOnlyList<string>> ListIdsWithRunningStepAsync(CancellationToken cancellationToken);

    /// <summary>How many onboardings there are of each kind and state (words, e.g. <c>connect</c>, <c>awaiting-approval</c>); one grouped query, for the <c>prequelbot.onboardings</c> gauge.</summary>
    Task<IReadOnlyList<OnboardingCount>> CountByStateAsync(CancellationToken cancellationToken);

    /// <summary>Ids of every onboarding of <paramref name="databaseKey"/> (any kind, any state), newest first: where <c>disconnect</c> finds the change records.</summary>
    Task<IReadOnlyList<string>> ListIdsOfDatabaseAsync(string databaseKey, CancellationToken cancellationToken);

    /// <summary>The audit trail of one onboarding, oldest first.</summary>
    Task<IReadOnlyList<AuditEvent>> GetAuditAsync(string onboardingId, CancellationToken cancellationToken);
}

/// <summary>The chat outbox's records: which message shows what, and how far chat has caught up.</summary>
public interface IChatMessageStore
{
    /// <summary>Ids of onboardings whose chat card lags behind (<c>ChatVersion</c> &gt; the synced version).</summary>
    Task<IReadOnlyList<string>> ListChatPendingIdsAsync(CancellationToken cancellationToken);

    /// <summary>Records that chat shows <paramref name="chatVersion"/>; never moves backwards.</summary>
    Task MarkChatSyncedAsync(string onboardingId, long chatVersion, CancellationToken cancellationToken);

    /// <summary>The synced chat version (0 when never synced).</summary>
    Task<long> GetChatSyncedVersionAsync(string onboardingId, CancellationToken cancellationToken);

    /// <summary>Chat messages posted for an onboarding, by key (<c>card</c>, <c>prompt:&lt;approval-id&gt;</c>).</summary>
    Task<IReadOnlyDictionary<string, StoredChatMessage>> GetChatMessagesAsync(string onboardingId, CancellationToken cancellationToken);

    /// <summary>
    /// Inserts or replaces one chat message reference and the fingerprint of what it shows, and marks its send (if any)
    /// as done, atomically.
    /// </summary>
    Task SaveChatMessageAsync(string onboardingId, string key, StoredChatMessage message, CancellationToken cancellationToken);

    /// <summary>
    /// Records that message <paramref name="key"/> is about to be posted ("sending"), before the platform is called:
    /// the first time with the onboarding's next outbox sequence number and <paramref name="now"/>, later times only
    /// counting the attempt. <see cref="ChatSendAttempt.Attempt"/> &gt; 1 means an earlier attempt may have posted it.
    /// </summary>
    Task<ChatSendAttempt> BeginChatSendAsync(string onboardingId, string key, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The platform refused the post of <paramref name="key"/> (nothing was posted): the next attempt counts as a first one.</summary>
    Task CancelChatSendAsync(string onboardingId, string key, CancellationToken cancellationToken);

    /// <summary>
    /// Before an update of message <paramref name="key"/> to what chat version <paramref name="chatVersion"/> shows:
    /// records the version and <paramref name="pendingHash"/> unless a newer version was recorded already (compare-and-set).
    /// False means a newer state is (being) shown, and this older one must not be sent.
    /// </summary>
    Task<bool> TryClaimChatUpdateAsync(string onboardingId, string key, long chatVersion, string pendingHash, CancellationToken cancellationToken);

    /// <summary>
    /// After the update claimed by <see cref="TryClaimChatUpdateAsync"/> went through: stores <paramref name="hash"/> if
    /// the claim is still the latest. False when another sync claimed or invalidated the message meanwhile (its update
    /// may have landed before this one).
    /// </summary>
    Task<bool> ConfirmChatUpdateAsync(string onboardingId, string key, long chatVersion, string pendingHash, string hash, CancellationToken cancellationToken);

    /// <summary>Forgets what message <paramref name="key"/> shows, so the next sync updates it to the newest state.</summary>
    Task MarkChatMessageStaleAsync(string onboardingId, string key, CancellationToken cancellationToken);
}

/// <summary>One attempt to post a chat message (<see cref="IChatMessageStore.BeginChatSendAsync"/>).</summary>
public sealed record ChatSendAttempt(long Sequence, DateTimeOffset FirstAttemptAt, int Attempt);

/// <summary>Named leases (the chat sync of one onboarding, the reconciler), compared with the store's own clock.</summary>
public interface ILeaseStore
{
    /// <summary>
    /// Takes or renews a named lease until <paramref name="until"/> if it is free, expired, or already held by
    /// <paramref name="owner"/>. Returns whether <paramref name="owner"/> now holds it.
    /// </summary>
    Task<bool> TryAcquireLeaseAsync(string name, string owner, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>Releases a lease if <paramref name="owner"/> holds it.</summary>
    Task ReleaseLeaseAsync(string name, string owner, CancellationToken cancellationToken);
}

/// <summary>Encrypted secrets and the Data Protection key ring that encrypts them (used by the storage adapter only).</summary>
public interface ISecretRecordStore
{
    /// <summary>Inserts or replaces an encrypted secret.</summary>
    Task PutSecretAsync(string onboardingId, string name, string protectedValue, CancellationToken cancellationToken);

    /// <summary>The encrypted secret or null.</summary>
    Task<string?> GetSecretAsync(string onboardingId, string name, CancellationToken cancellationToken);

    /// <summary>Deletes every secret of the onboarding.</summary>
    Task DeleteSecretsAsync(string onboardingId, CancellationToken cancellationToken);

    /// <summary>Every Data Protection key element (XML), for the key ring.</summary>
    IReadOnlyList<string> GetDataProtectionKeys();

    /// <summary>Stores a Data Protection key element under its friendly name (a new key is never replaced).</summary>
    void StoreDataProtectionKey(string friendlyName, string xml);
}

/// <summary>
/// The whole durable state, as the storage adapter implements it: SQLite (embedded, single node) and PostgreSQL (any
/// number of nodes) share one test suite. Engine services depend on the narrow interfaces it is made of.
/// </summary>
public interface IStateStore : IOnboardingStore, IChatMessageStore, ILeaseStore, ISecretRecordStore, IDriftStore
{
    /// <summary>Creates or upgrades the schema. Idempotent; safe when several nodes start at once.</summary>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>True when the store answers a trivial query.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}

/// <summary>The number of onboardings of one kind in one state (both as their stored words).</summary>
public sealed record OnboardingCount(string Kind, string State, long Count);

/// <summary>
/// A posted chat message, the fingerprint of the content it shows (to skip needless updates), the onboarding's chat
/// version that content came from (an update never goes back to an older one), and whether it was posted as a
/// replacement of an earlier copy that may also show.
/// </summary>
public sealed record StoredChatMessage(ChatMessageRef Ref, string ContentHash, long ShownVersion = 0, bool ReplacesEarlier = false);

/// <summary>A <c>connect</c> for a database that already has an active onboarding.</summary>
public sealed class ActiveOnboardingExistsException(string databaseKey, string? existingOnboardingId)
    : Exception($"Database {databaseKey} already has an active onboarding{(existingOnboardingId is null ? "" : $" ({existingOnboardingId})")}.")
{
    public string DatabaseKey { get; } = databaseKey;
    public string? ExistingOnboardingId { get; } = existingOnboardingId;
}
