using PrequelBot.Commands;

namespace PrequelBot.Workflows.Domain;

/// <summary>
/// What the user asked for, with every default resolved at <c>connect</c> time except those that need
/// discovery (<see cref="ReplicaClass"/> null = the source's class).
/// </summary>
public sealed record OnboardingRequest
{
    /// <summary>The alias from <c>Databases:</c> (or, for <c>plan</c>, the RDS identifier the user typed).</summary>
    public required string DatabaseAlias { get; init; }
    /// <summary>The RDS DB instance identifier behind the alias (the source/writer).</summary>
    public required string InstanceIdentifier { get; init; }
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

    /// <summary>The instance that later steps change and Prequel connects to, by id.</summary>
    public string TargetInstanceIdentifier => Replica && ReplicaId is not null ? ReplicaId : InstanceIdentifier;
}

/// <summary>One onboarding: the unit of work, audit and chat card.</summary>
public sealed class Onboarding
{
    public required string Id { get; init; }
    /// <summary>Lower-case database alias; at most one active onboarding per key.</summary>
    public required string DatabaseKey { get; init; }
    public required OnboardingRequest Request { get; init; }
    public required ChatUser Requester { get; init; }
    public required ConversationRef Conversation { get; init; }
    public string State { get; set; } = OnboardingStates.Planning;
    public OnboardingFacts Facts { get; set; } = new();
    /// <summary>Latest user-facing message (a failure reason, the reason for cancelling…); never a secret.</summary>
    public string? Message { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    /// <summary>Optimistic concurrency: incremented by every successful save.</summary>
    public long Version { get; set; }
    /// <summary>Incremented when something the chat card shows changes; the chat outbox catches up to it.</summary>
    public long ChatVersion { get; set; }
}

/// <summary>One step of one onboarding.</summary>
public sealed class StepRecord
{
    public required string Name { get; init; }
    public required int Ordinal { get; init; }
    public string State { get; set; } = StepStates.Pending;
    /// <summary>The plan shown to the approver (empty when nothing needs to change).</summary>
    public IReadOnlyList<string> PlannedChanges { get; set; } = [];
    public string? PlanNote { get; set; }
    /// <summary>Latest user-facing detail: a result summary, an AWS status while waiting, a failure reason.</summary>
    public string? Detail { get; set; }
    /// <summary>How many times apply (or a re-check) has started for this step since it was last planned.</summary>
    public int Attempts { get; set; }
    /// <summary>Consecutive unexpected errors; reset on success.</summary>
    public int Errors { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    /// <summary>While <see cref="StepStates.Waiting"/>: when the next re-check is due.</summary>
    public DateTimeOffset? NextCheckAt { get; set; }
    /// <summary>While waiting: when to give up.</summary>
    public DateTimeOffset? Deadline { get; set; }
    /// <summary>While running: the worker that holds the step, and until when (a crash frees it on expiry).</summary>
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseUntil { get; set; }
}

/// <summary>One approval prompt for one planned change.</summary>
public sealed class ApprovalRecord
{
    public required string Id { get; init; }
    public required string OnboardingId { get; init; }
    public required string Step { get; init; }
    public required IReadOnlyList<string> Changes { get; init; }
    public string? Note { get; init; }
    /// <summary>Fingerprint of <see cref="Changes"/>: an approval covers exactly this change and nothing else.</summary>
    public required string PlanHash { get; init; }
    public string State { get; set; } = ApprovalStates.Pending;
    public DateTimeOffset RequestedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public ChatUser? DecidedBy { get; set; }
    public DateTimeOffset? DecidedAt { get; set; }
}

/// <summary>The onboarding with its steps and approvals: loaded and saved as one unit (optimistic concurrency on <see cref="Onboarding.Version"/>).</summary>
public sealed class OnboardingAggregate
{
    public required Onboarding Onboarding { get; init; }
    public required List<StepRecord> Steps { get; init; }
    public required List<ApprovalRecord> Approvals { get; init; }

    public string Id => Onboarding.Id;

    /// <summary>The first step that is not done, or null when all are.</summary>
    public StepRecord? CurrentStep => Steps.OrderBy(s => s.Ordinal).FirstOrDefault(s => !StepStates.IsDone(s.State));

    public StepRecord Step(string name) => Steps.Single(s => s.Name == name);
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
public sealed record OnboardingListing(string Id, string DatabaseAlias, string State, ChatUser Requester, DateTimeOffset UpdatedAt, string? CurrentStep);
