namespace PrequelBot.Workflows.Engine;

/// <summary>
/// Where the workflow hands work to background jobs. Arguments are ids only. Every call may be repeated and
/// jobs may run more than once: the jobs re-read state and do nothing when there is nothing to do.
/// </summary>
public interface IWorkScheduler
{
    /// <summary>Advance the onboarding's current step soon (background queue).</summary>
    void RunStep(string onboardingId, string stepName);

    /// <summary>Advance a step a person just approved: a dedicated queue and worker pool, so it starts within milliseconds.</summary>
    void RunApprovedStep(string onboardingId, string stepName);

    /// <summary>Re-check a waiting step after <paramref name="delay"/>.</summary>
    void RunStepLater(string onboardingId, string stepName, TimeSpan delay);

    /// <summary>Bring the chat card and prompts up to date.</summary>
    void SyncChat(string onboardingId);

    /// <summary>Bring chat up to date after <paramref name="delay"/> (the platform asked us to slow down).</summary>
    void SyncChatLater(string onboardingId, TimeSpan delay);
}
