using System.ComponentModel.DataAnnotations;

namespace PrequelBot.Workflows.Options;

/// <summary><c>Approvals</c> section (docs/workflow.md, "Settings").</summary>
public sealed class ApprovalOptions
{
    public const string Section = "Approvals";

    /// <summary>
    /// Who may approve: <c>slack:U…</c>/<c>slack:W…</c>, <c>teams:&lt;AAD object id&gt;</c>, or the bare forms (<c>U…</c>/<c>W…</c> =
    /// Slack, a GUID = Teams). A Slack id never matches a Teams user, nor the reverse. Default: nobody.
    /// </summary>
    public List<string> Approvers { get; set; } = [];

    /// <summary>
    /// Who may run changing commands (<c>connect</c>, <c>retry</c>, <c>cancel</c>, <c>rotate</c>, <c>disconnect</c>); same forms as
    /// <see cref="Approvers"/>. Default empty: anyone identified in an allowed workspace or tenant.
    /// </summary>
    public List<string> Requesters { get; set; } = [];

    /// <summary>Whether the requester may approve their own steps. Default false.</summary>
    public bool AllowSelfApproval { get; set; }

    /// <summary>An unanswered prompt expires after this; the onboarding becomes <c>cancelled</c>. Default one day.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Per-step settings, by step name (<c>Approvals:Steps:public-access:Required=2</c>).</summary>
    public Dictionary<string, StepApprovalOptions> Steps { get; set; } = new(StringComparer.Ordinal);
}

/// <summary><c>Approvals:Steps:&lt;step&gt;</c>.</summary>
public sealed class StepApprovalOptions
{
    /// <summary>Distinct approvers the step needs. Default 1.</summary>
    public int Required { get; set; } = 1;
}

/// <summary>One entry of the <c>Databases</c> section: <c>Databases:&lt;alias&gt;:…</c>.</summary>
public sealed class DatabaseOptions
{
    /// <summary>The RDS DB instance identifier; empty = the alias.</summary>
    public string? InstanceIdentifier { get; set; }

    /// <summary>Npgsql connection string of a role that may CREATE ROLE and GRANT on the source (writer). A secret.</summary>
    public string? AdminConnectionString { get; set; }

    /// <summary>
    /// Extra roles whose future tables the reader must be able to read (e.g. a migration role that owns no table yet).
    /// Default privileges are always set for the admin role and for every owner of tables in the granted schemas.
    /// Default: none. PostgreSQL identifiers (validated at start-up by the PostgreSQL adapter).
    /// </summary>
    public List<string> TableCreators { get; set; } = [];

    /// <summary>Optional <c>statement_timeout</c> set on the reader role (e.g. <c>01:00:00</c>). Default: none.</summary>
    public TimeSpan? ReaderStatementTimeout { get; set; }

    /// <summary>An Aurora PostgreSQL cluster behind the alias, instead of <see cref="InstanceIdentifier"/> (docs/aws.md, Aurora).</summary>
    public string? ClusterIdentifier { get; set; }
}

/// <summary>The <c>Databases</c> section: alias → settings. Aliases are matched case-insensitively.</summary>
public sealed class DatabasesOptions
{
    public const string Section = "Databases";

    public Dictionary<string, DatabaseOptions> Entries { get; } = new(StringComparer.OrdinalIgnoreCase);

    public bool TryGet(string alias, out string instanceIdentifier, out DatabaseOptions options)
    {
        if (Entries.TryGetValue(alias, out var found))
        {
            options = found;
            instanceIdentifier = string.IsNullOrWhiteSpace(found.InstanceIdentifier) ? alias.ToLowerInvariant() : found.InstanceIdentifier.Trim();
            return true;
        }
        options = new DatabaseOptions();
        instanceIdentifier = alias;
        return false;
    }

    /// <summary>The Aurora cluster configured behind <paramref name="alias"/> (<c>ClusterIdentifier</c>), lower-cased; null when none.</summary>
    public string? ClusterOf(string alias) =>
        Entries.TryGetValue(alias, out var found) && !string.IsNullOrWhiteSpace(found.ClusterIdentifier) ? found.ClusterIdentifier.Trim().ToLowerInvariant() : null;
}

/// <summary><c>Workflow</c> section: engine tuning. Defaults suit production; tests shorten them.</summary>
public sealed class WorkflowOptions
{
    public const string Section = "Workflow";

    /// <summary>
    /// How often the reconciler sweeps every active onboarding (re-drives lost work, expires prompts). Between sweeps it
    /// also wakes exactly when the next lease lapses or queued work is overdue (docs/workflow.md, "Losing a node").
    /// Default 30 s.
    /// </summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long approved or due work may sit unclaimed before the reconciler enqueues it again (a job fetched by a node
    /// that died). Enqueuing twice is harmless: the step's claim is a compare-and-set. Default 5 s.
    /// </summary>
    public TimeSpan StartGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First re-check delay of a waiting step. Default 15 s.</summary>
    public TimeSpan RecheckInitialDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Largest re-check delay. Default 60 s.</summary>
    public TimeSpan RecheckMaxDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a step may wait (e.g. for a replica) before failing. Default 2 h.</summary>
    public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// How long a running step's lease lasts without a renewal; a killed worker's step is taken over this long after
    /// its last heartbeat. The heartbeat keeps a long step's lease alive, so the lease can be short. Default 10 s.
    /// </summary>
    public TimeSpan StepLease { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a running step renews its lease: a quarter of <see cref="StepLease"/>, so a few missed beats are survived.</summary>
    public TimeSpan StepHeartbeat => StepLease / 4;

    /// <summary>Unexpected errors of one step before it fails. Default 5.</summary>
    public int MaxStepErrors { get; set; } = 5;

    /// <summary>Worker threads of the server that runs click-triggered steps. Default 4.</summary>
    public int ApprovalWorkers { get; set; } = 4;

    /// <summary>Worker threads of the server that runs scheduled re-checks and back-offs. Default 4.</summary>
    public int RecheckWorkers { get; set; } = 4;

    /// <summary>Worker threads for everything else. Default 8.</summary>
    public int Workers { get; set; } = 8;
}
