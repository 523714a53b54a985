namespace PrequelBot.Workflows.Domain;

/// <summary>
/// The states of an onboarding (docs/workflow.md, "States"). Only <see cref="OnboardingAggregate"/> moves an onboarding
/// from one to another; everything else reads them. Stored and shown as their words (<see cref="StateWords"/>).
/// </summary>
public enum OnboardingState { Planning, AwaitingApproval, Running, Waiting, Completed, Failed, Rejected, Cancelled }

/// <summary>The states of one step. <see cref="AlreadyInPlace"/> is shown as "already in place".</summary>
public enum StepState { Pending, AwaitingApproval, Approved, Running, Waiting, Completed, AlreadyInPlace, Failed, Rejected, Cancelled }

/// <summary>The states of one approval prompt.</summary>
public enum ApprovalState { Pending, Approved, Rejected, Expired, Cancelled }

/// <summary>What the states mean for the workflow, and their words (e.g. <c>awaiting-approval</c>).</summary>
public static class StateWords
{
    /// <summary>No further work will happen without a user command.</summary>
    public static bool IsFinished(this OnboardingState state) =>
        state is OnboardingState.Completed or OnboardingState.Failed or OnboardingState.Rejected or OnboardingState.Cancelled;

    /// <summary>Holds the database: a second onboarding of the same database is refused.</summary>
    public static bool IsActive(this OnboardingState state) => !state.IsFinished();

    /// <summary>The step is over and the workflow may move past it.</summary>
    public static bool IsDone(this StepState state) => state is StepState.Completed or StepState.AlreadyInPlace;

    public static string Word(this OnboardingState state) => Kebab(state.ToString());

    public static string Word(this StepState state) => Kebab(state.ToString());

    public static string Word(this ApprovalState state) => Kebab(state.ToString());

    /// <summary>The state a stored word names; throws for a word no version of PrequelBot wrote.</summary>
    public static T Parse<T>(string word) where T : struct, Enum =>
        Enum.TryParse<T>(word.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var state)
            ? state
            : throw new InvalidDataException($"Unknown {typeof(T).Name} '{word}'.");

    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}

/// <summary>Onboarding state words as cards and <c>status</c> show them (docs/workflow.md).</summary>
public static class OnboardingStates
{
    public const string Planning = "planning";
    public const string AwaitingApproval = "awaiting-approval";
    public const string Running = "running";
    public const string Waiting = "waiting";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Rejected = "rejected";
    public const string Cancelled = "cancelled";

    /// <summary>Whether a shown state word means no further work will happen without a user command.</summary>
    public static bool IsFinished(string state) => state is Completed or Failed or Rejected or Cancelled;

    public static bool IsActive(string state) => !IsFinished(state);
}

/// <summary>Step state words as cards show them.</summary>
public static class StepStates
{
    public const string Pending = "pending";
    public const string AwaitingApproval = "awaiting-approval";
    public const string Approved = "approved";
    public const string Running = "running";
    public const string Waiting = "waiting";
    public const string Completed = "completed";
    public const string AlreadyInPlace = "already-in-place";
    public const string Failed = "failed";
    public const string Rejected = "rejected";
    public const string Cancelled = "cancelled";

    /// <summary>Human-readable form for cards and status.</summary>
    public static string Display(string state) => state switch
    {
        AlreadyInPlace => "already in place",
        AwaitingApproval => "awaiting approval",
        _ => state,
    };
}

/// <summary>Approval state words as prompts show them.</summary>
public static class ApprovalStates
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";
    public const string Cancelled = "cancelled";
}
