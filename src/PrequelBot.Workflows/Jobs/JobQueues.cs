namespace PrequelBot.Workflows.Jobs;

/// <summary>Hangfire queue names. Stored with queued jobs: never rename.</summary>
public static class JobQueues
{
    /// <summary>Steps a person just approved; served by a dedicated server so a click starts its step at once.</summary>
    public const string Approvals = "approvals";

    /// <summary>Planning, automatic steps and re-checks.</summary>
    public const string Steps = "steps";

    /// <summary>Chat card and prompt delivery.</summary>
    public const string Chat = "chat";
}
