namespace PrequelBot.Commands;

/// <summary>A command typed by a user after <c>/prequel</c> in Slack or in a Teams message (README, "The command language").</summary>
public abstract record BotCommand;

/// <summary><c>connect &lt;db&gt; [options]</c>: start an onboarding of the database alias <paramref name="Database"/>.</summary>
public sealed record ConnectCommand(string Database, OnboardingOptions Options) : BotCommand;

/// <summary><c>plan &lt;db&gt; [options]</c>: show what <c>connect</c> would change; changes nothing.</summary>
public sealed record PlanCommand(string Database, OnboardingOptions Options) : BotCommand;

/// <summary><c>status [&lt;onboarding-id&gt;]</c>.</summary>
public sealed record StatusCommand(string? OnboardingId) : BotCommand;

/// <summary><c>cancel &lt;onboarding-id&gt;</c>.</summary>
public sealed record CancelCommand(string OnboardingId) : BotCommand;

/// <summary><c>retry &lt;onboarding-id&gt;</c>: re-runs the failed step.</summary>
public sealed record RetryCommand(string OnboardingId) : BotCommand;

/// <summary><c>rotate &lt;db&gt;</c>: a new password for the reader of <paramref name="Database"/>; Prequel's source is updated.</summary>
public sealed record RotateCommand(string Database) : BotCommand;

/// <summary><c>disconnect &lt;db&gt; [--keep-replica | --final-snapshot]</c>: undo what <c>connect</c> created for the database alias <paramref name="Database"/>.</summary>
public sealed record DisconnectCommand(string Database, bool KeepReplica) : BotCommand
{
    /// <summary><c>--final-snapshot</c>: keep a snapshot of the replica this bot created before deleting it (off by default: the replica holds only its source's data). Never together with <see cref="KeepReplica"/>.</summary>
    public bool FinalSnapshot { get; init; }
}

/// <summary><c>check &lt;db&gt;</c>: compares what <c>connect</c> recorded for the database alias <paramref name="Database"/> with live state; changes nothing.</summary>
public sealed record CheckCommand(string Database) : BotCommand;

/// <summary><c>audit &lt;onboarding-id&gt;</c>: who requested, approved and ran what, and when.</summary>
public sealed record AuditCommand(string OnboardingId) : BotCommand;

/// <summary><c>help</c>.</summary>
public sealed record HelpCommand : BotCommand;

/// <summary>A <c>schema.table</c> pair from <c>--tables</c>; both parts are validated PostgreSQL identifiers.</summary>
public sealed record TableName(string Schema, string Table)
{
    public override string ToString() => $"{Schema}.{Table}";
}

/// <summary>
/// Options shared by <c>connect</c> and <c>plan</c>, already validated. Values the user left out are null
/// or take the defaults of the README, "The command language" that need no outside knowledge (<c>--schemas public</c>,
/// <c>--user prequel_reader</c>). Defaults that depend on the database (replica id, replica class,
/// source name) are resolved by the workflow.
/// </summary>
public sealed record OnboardingOptions
{
    public const string DefaultSchema = "public";
    public const string DefaultUser = "prequel_reader";

    /// <summary><c>--replica</c>: create a read replica and expose that instead of the source.</summary>
    public bool Replica { get; init; }

    /// <summary><c>--replica-class</c>, e.g. <c>db.t4g.medium</c>; null = the source's class.</summary>
    public string? ReplicaClass { get; init; }

    /// <summary><c>--replica-id</c>; null = <c>&lt;instance&gt;-prequel-replica</c>.</summary>
    public string? ReplicaId { get; init; }

    /// <summary><c>--replica-subnet-group</c>: the DB subnet group for the replica (in the source's VPC); null = the source's.</summary>
    public string? ReplicaSubnetGroup { get; init; }

    /// <summary><c>--security-group</c>: put the Prequel rules on this existing group of the target; null = a dedicated group.</summary>
    public string? SecurityGroupId { get; init; }

    /// <summary><c>--reader</c>: Aurora only, use this existing reader instance of the cluster as the target; null = the writer (or the new reader with <c>--replica</c>).</summary>
    public string? Reader { get; init; }

    /// <summary><c>--schemas</c>, distinct, in the order given; never empty.</summary>
    public IReadOnlyList<string> Schemas { get; init; } = [DefaultSchema];

    /// <summary><c>--tables</c>; empty = every table of <see cref="Schemas"/>.</summary>
    public IReadOnlyList<TableName> Tables { get; init; } = [];

    /// <summary><c>--user</c>: the read-only PostgreSQL role to create.</summary>
    public string User { get; init; } = DefaultUser;

    /// <summary><c>--source-name</c>; null = the database alias.</summary>
    public string? SourceName { get; init; }
}

/// <summary>The parser's answer: exactly one of <see cref="Command"/> and <see cref="Error"/> is set.</summary>
public sealed record ParseResult
{
    private ParseResult(BotCommand? command, string? error) { Command = command; Error = error; }

    public BotCommand? Command { get; }

    /// <summary>A one-line explanation meant for the user, naming the problem.</summary>
    public string? Error { get; }

    public bool IsSuccess => Command is not null;

    public static ParseResult Success(BotCommand command) => new(command, null);

    public static ParseResult Failure(string error) => new(null, error);
}
