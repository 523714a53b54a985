using System.Text.Json.Serialization;
using PrequelBot.Commands;

namespace PrequelBot.Workflows.Domain;

/// <summary>
/// What the user asked for, with every default resolved at <c>connect</c> time except those that need
/// discovery (<see cref="ReplicaClass"/> null = the source's class).
/// </summary>
public sealed record OnboardingRequest
{
    /// <summary>Which catalogue of steps the onboarding runs.</summary>
    public OnboardingKind Kind { get; init; } = OnboardingKind.Connect;
    /// <summary>The alias from <c>Databases:</c> (or, for <c>plan</c>, the RDS identifier the user typed).</summary>
    public required string DatabaseAlias { get; init; }
    /// <summary>The RDS DB instance identifier behind the alias (the source/writer).</summary>
    public required string InstanceIdentifier { get; init; }
    /// <summary><c>Databases:&lt;alias&gt;:ClusterIdentifier</c>: the Aurora cluster (then <see cref="InstanceIdentifier"/> holds the cluster id until discover finds the writer).</summary>
    public string? ClusterIdentifier { get; init; }
    /// <summary><c>--reader</c>: an existing reader instance of the Aurora cluster to use as the target.</summary>
    public string? ReaderId { get; init; }
    public bool Replica { get; init; }
    /// <summary>Replica id (resolved: <c>&lt;instance&gt;-prequel-replica</c> by default); null without <c>--replica</c>.</summary>
    public string? ReplicaId { get; init; }
    public string? ReplicaClass { get; init; }
    /// <summary><c>--replica-subnet-group</c>: the DB subnet group of the replica (in the source's VPC); null = the source's.</summary>
    public string? ReplicaSubnetGroup { get; init; }
    /// <summary><c>--security-group</c>: put the Prequel rules on this group of the target instead of a dedicated group.</summary>
    public string? SecurityGroupId { get; init; }
    public IReadOnlyList<string> Schemas { get; init; } = [OnboardingOptions.DefaultSchema];
    public IReadOnlyList<TableName> Tables { get; init; } = [];
    public string UserName { get; init; } = OnboardingOptions.DefaultUser;
    public required string SourceName { get; init; }
    /// <summary><c>disconnect --keep-replica</c>: leave the replica this bot created as it is.</summary>
    public bool KeepReplica { get; init; }
    /// <summary>
    /// <c>disconnect --final-snapshot</c>: the manual DB snapshot <c>delete-replica</c> keeps of the recorded replica before
    /// deleting it (<c>&lt;replica&gt;-prequel-final-&lt;yyyymmddhhmm&gt;</c>, resolved when the disconnect starts); null = none.
    /// </summary>
    public string? FinalSnapshotId { get; init; }

    /// <summary>The instance that later steps change and Prequel connects to, by id.</summary>
    public string TargetInstanceIdentifier => Replica && ReplicaId is not null ? ReplicaId : ReaderId ?? InstanceIdentifier;
}

/// <summary>
/// One onboarding's own fields: the unit of work, audit and chat card. Its state, message and facts change only
/// through <see cref="OnboardingAggregate"/>; the constructor is for new onboardings and for the state store.
/// </summary>
public sealed class Onboarding(OnboardingState state = OnboardingState.Planning, string? message = null, OnboardingFacts? facts = null)
{
    public required string Id { get; init; }
    /// <summary>Lower-case database alias; at most one active onboarding per key.</summary>
    public required string DatabaseKey { get; init; }
    public required OnboardingRequest Request { get; init; }
    public required ChatUser Requester { get; init; }
    public required ConversationRef Conversation { get; init; }
    public OnboardingState State { get; internal set; } = state;
    public OnboardingFacts Facts { get; internal set; } = facts ?? new();
    /// <summary>Latest user-facing message (a failure reason, the reason for cancelling…); never a secret.</summary>
    public string? Message { get; internal set; } = message;
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Optimistic concurrency: incremented by every successful save (set by the state store).</summary>
    public long Version { get; set; }
    /// <summary>Incremented when something the chat card shows changes; the chat outbox catches up to it.</summary>
    public long ChatVersion { get; set; }
}

/// <summary>One step of one onboarding. Stored as JSON; changed only by <see cref="OnboardingAggregate"/>.</summary>
public sealed class StepRecord
{
    public required string Name { get; init; }
    public required int Ordinal { get; init; }
    [JsonInclude] public StepState State { get; internal set; } = StepState.Pending;
    /// <summary>The plan shown to the approver (empty when nothing needs to change).</summary>
    [JsonInclude] public IReadOnlyList<string> PlannedChanges { get; internal set; } = [];
    [JsonInclude] public string? PlanNote { get; internal set; }
    [JsonInclude] public string? PlanPayload { get; internal set; }
    /// <summary>The approval that allowed the current run of this step, if it needed one.</summary>
    [JsonInclude] public string? ApprovalId { get; internal set; }
    /// <summary>Latest user-facing detail: a result summary, an AWS status while waiting, a failure reason.</summary>
    [JsonInclude] public string? Detail { get; internal set; }
    /// <summary>How many times apply (or a re-check) has started for this step since it was last planned.</summary>
    [JsonInclude] public int Attempts { get; internal set; }
    /// <summary>Consecutive unexpected errors; reset on success.</summary>
    [JsonInclude] public int Errors { get; internal set; }
    [JsonInclude] public DateTimeOffset? StartedAt { get; internal set; }
    [JsonInclude] public DateTimeOffset? FinishedAt { get; internal set; }
    /// <summary>While <see cref="StepState.Waiting"/>: when the next re-check is due.</summary>
    [JsonInclude] public DateTimeOffset? NextCheckAt { get; internal set; }
    /// <summary>While waiting: when to give up.</summary>
    [JsonInclude] public DateTimeOffset? Deadline { get; internal set; }
    /// <summary>While running: the worker that holds the step, and until when (renewed by its heartbeat; a crash frees it on expiry).</summary>
    [JsonInclude] public string? LeaseOwner { get; internal set; }
    [JsonInclude] public DateTimeOffset? LeaseUntil { get; internal set; }

    /// <summary>The stored plan as a value.</summary>
    public StepPlan Plan => new() { Changes = PlannedChanges, Note = PlanNote, Payload = PlanPayload };

    /// <summary>Whether <paramref name="owner"/> holds this step's lease.</summary>
    public bool IsHeldBy(string owner) => State == StepState.Running && LeaseOwner == owner;

    /// <summary>Whether a worker may start (or take over) this step now.</summary>
    public bool IsRunnable(DateTimeOffset now) => State switch
    {
        StepState.Approved => true,
        StepState.Running => LeaseUntil is null || LeaseUntil < now,
        StepState.Waiting => NextCheckAt is null || NextCheckAt <= now,
        _ => false,
    };
}

/// <summary>One person's decision on a prompt.</summary>
public sealed record ApprovalDecision(ChatUser By, DateTimeOffset At, bool Approve);

/// <summary>One approval prompt for one planned change; it covers exactly the plan whose hash it stores.</summary>
public sealed class ApprovalRecord
{
    public required string Id { get; init; }
    public required string OnboardingId { get; init; }
    public required string Step { get; init; }
    public required IReadOnlyList<string> Changes { get; init; }
    public string? Note { get; init; }
    public string? Payload { get; init; }
    /// <summary>Fingerprint of the plan (<see cref="StepPlan.Hash"/>): an approval covers exactly this change and nothing else.</summary>
    public required string PlanHash { get; init; }
    /// <summary>Distinct approvers needed (<c>Approvals:Steps:&lt;step&gt;:Required</c> when the prompt was posted).</summary>
    public int Required { get; init; } = 1;
    [JsonInclude] public ApprovalState State { get; internal set; } = ApprovalState.Pending;
    public DateTimeOffset RequestedAt { get; init; }
    /// <summary>The whole prompt expires then, however many approvals it has; an approval is never used after it.</summary>
    public DateTimeOffset ExpiresAt { get; init; }
    /// <summary>Every decision so far, in order (one per person).</summary>
    [JsonInclude] public List<ApprovalDecision> Decisions { get; internal set; } = [];
    /// <summary>Who made the decision that settled the prompt (the last approver, or the one who rejected).</summary>
    [JsonInclude] public ChatUser? DecidedBy { get; internal set; }
    [JsonInclude] public DateTimeOffset? DecidedAt { get; internal set; }

    public StepPlan Plan => new() { Changes = Changes, Note = Note, Payload = Payload };

    /// <summary>The people who approved, in order.</summary>
    public IReadOnlyList<ChatUser> Approvers => [.. Decisions.Where(d => d.Approve).Select(d => d.By)];

    public bool IsExpiredAt(DateTimeOffset now) => now >= ExpiresAt;
}

/// <summary>One line of the audit trail: who did what to which onboarding, when.</summary>
public sealed record AuditEvent(string OnboardingId, DateTimeOffset At, string Actor, string Action, string? Detail = null)
{
    /// <summary>The actor for things the bot itself does.</summary>
    public const string System = "prequelbot";
}

/// <summary>
/// One line of <c>status</c>: what the list shows of an onboarding, without its facts, request or conversation (the
/// list is a hot path), and the name of its first step that is not done (null when none is left).
/// </summary>
public sealed record OnboardingListing(string Id, string DatabaseAlias, OnboardingState State, ChatUser Requester, DateTimeOffset UpdatedAt, string? CurrentStep);
