using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Teams.Tests;

/// <summary>Sample views for rendering tests.</summary>
internal static class CardViews
{
    public static OnboardingCardView Onboarding(string state) => new()
    {
        OnboardingId = "ob-7k2m9q",
        Database = "orders",
        Requester = new ChatUser("teams", "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", "Megan Bowen"),
        State = state,
        Steps =
        [
            new StepView(StepNames.Discover, StepStates.Completed, "postgres 16.3"),
            new StepView(StepNames.SecurityGroup, StepStates.AwaitingApproval, null),
        ],
        UpdatedAt = DateTimeOffset.UnixEpoch,
    };

    public static ApprovalPromptView Prompt(string state = ApprovalStates.Pending) => new()
    {
        ApprovalId = "ap-123",
        OnboardingId = "ob-7k2m9q",
        Database = "orders",
        Step = StepNames.SecurityGroup,
        Changes = ["add inbound TCP 5432 from 35.192.85.117/32 to sg-0abc"],
        Note = "rule is tagged managed-by=prequelbot",
        State = state,
        DecidedBy = state == ApprovalStates.Pending ? null : new ChatUser("teams", "aad-1", "Alex Wilber"),
        DecidedAt = state == ApprovalStates.Pending ? null : new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
        ExpiresAt = new DateTimeOffset(2026, 1, 3, 0, 0, 0, TimeSpan.Zero),
    };
}
