namespace PrequelBot.Workflows.Domain;

/// <summary>Onboarding states as shown to users (CONTRACT §6). Stored as these words.</summary>
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

    /// <summary>No further work will happen without a user command.</summary>
    public static bool IsFinished(string state) => state is Completed or Failed or Rejected or Cancelled;

    /// <summary>Holds the database: a second <c>connect</c> of the same database is refused.</summary>
    public static bool IsActive(string state) => !IsFinished(state);
}

/// <summary>Step states. <see cref="AlreadyInPlace"/> is shown as "already in place".</summary>
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

    /// <summary>The step is over and the workflow may move past it.</summary>
    public static bool IsDone(string state) => state is Completed or AlreadyInPlace;

    /// <summary>Human-readable form for cards and status.</summary>
    public static string Display(string state) => state switch
    {
        AlreadyInPlace => "already in place",
        AwaitingApproval => "awaiting approval",
        _ => state,
    };
}

/// <summary>Approval states.</summary>
public static class ApprovalStates
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";
    public const string Expired = "expired";
    public const string Cancelled = "cancelled";
}
