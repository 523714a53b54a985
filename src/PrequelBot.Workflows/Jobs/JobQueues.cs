namespace PrequelBot.Workflows.Jobs;

/// <summary>Hangfire queue names. Stored with queued jobs: never rename.</summary>
public static class JobQueues
{
    /// <summary>Steps a person just approved; served by a dedicated server so a click starts its step at once.</summary>
    public const string Approvals = "approvals";

    /// <summary>Planning and automatic steps.</summary>
    public const string Steps = "steps";

    /// <summary>
    /// Scheduled re-runs (replica re-checks, back-off after a transient error); served by a server of their own so many
    /// waiting onboardings never hold up new onboardings, their cards or their prompts.
    /// </summary>
    public const string Rechecks = "rechecks";

    /// <summary>Chat card and prompt delivery.</summary>
    public const string Chat = "chat";
}
