using System.Text.Json.Nodes;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Teams.Tests;

public sealed class AdaptiveCardsTests
{
    /// <summary>Every string value in the card, one per line: what a reader could see.</summary>
    private static string Texts(JsonNode? node) => node switch
    {
        JsonObject o => string.Join('\n', o.Select(p => Texts(p.Value))),
        JsonArray a => string.Join('\n', a.Select(Texts)),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => "",
    };

    [Fact]
    public void Onboarding_card_shows_id_database_requester_state_every_step_and_the_message()
    {
        var view = CardViews.Onboarding(OnboardingStates.Failed) with { Message = "security-group failed: AccessDenied" };

        var card = AdaptiveCards.Onboarding(view);

        Assert.Equal("1.5", (string?)card["version"]);
        var text = Texts(card);
        Assert.All(["ob-7k2m9q", "orders", "Megan Bowen", "failed", "discover", "postgres 16.3", "security-group", "awaiting approval", "security-group failed: AccessDenied"],
            expected => Assert.Contains(expected, text, StringComparison.Ordinal));
        Assert.Null(card["actions"]);
    }

    [Fact]
    public void Plan_card_lists_each_step_with_its_changes_and_says_nothing_changed()
    {
        var plan = new PlanView("orders", "orders-prequel-replica",
        [
            new PlannedStepView(StepNames.PublicAccess, [], null, "already public", NeedsApproval: false),
            new PlannedStepView(StepNames.SecurityGroup, ["add inbound TCP 5432 from 35.192.85.117/32 to sg-0abc"], "first VPC group", null, NeedsApproval: true),
        ]);

        var text = Texts(AdaptiveCards.Plan(plan));

        Assert.Contains("Nothing has been changed.", text, StringComparison.Ordinal);
        Assert.Contains("security-group (needs approval)", text, StringComparison.Ordinal);
        Assert.Contains("add inbound TCP 5432 from 35.192.85.117/32 to sg-0abc", text, StringComparison.Ordinal);
        Assert.Contains("no change needed (already public)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Onboardings_card_lists_each_onboarding_or_says_there_are_none()
    {
        var one = new OnboardingSummary("ob-abc123", "orders", OnboardingStates.Running, StepNames.CreateUser,
            new ChatUser("teams", "aad-1", "Megan Bowen"), DateTimeOffset.UnixEpoch);

        var listed = Texts(AdaptiveCards.Onboardings([one]));
        var empty = Texts(AdaptiveCards.Onboardings([]));

        Assert.Contains("ob-abc123 · orders · running · create-user", listed, StringComparison.Ordinal);
        Assert.Contains("No active or recent onboardings.", empty, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ApprovalStates.Rejected, "Rejected by Alex Wilber at 2026-01-02 03:04:05 UTC")]
    [InlineData(ApprovalStates.Expired, "Expired without a decision.")]
    [InlineData(ApprovalStates.Cancelled, "Cancelled.")]
    public void Finished_prompt_has_no_buttons_and_states_the_outcome(string state, string outcome)
    {
        var card = AdaptiveCards.Prompt(CardViews.Prompt(state));

        Assert.Empty(card["actions"]!.AsArray());
        Assert.Contains(outcome, Texts(card), StringComparison.Ordinal);
    }

    [Fact]
    public void Outgoing_message_carries_bot_and_conversation_but_no_recipient_service_url_or_id()
    {
        var message = AdaptiveCards.Message("28:bot", "19:c", null, AdaptiveCards.Prompt(CardViews.Prompt()));

        Assert.Equal("message", (string?)message["type"]);
        Assert.Equal("28:bot", (string?)message["from"]!["id"]);
        Assert.Equal("19:c", (string?)message["conversation"]!["id"]);
        Assert.Equal(AdaptiveCards.ContentType, (string?)message["attachments"]![0]!["contentType"]);
        Assert.Null(message["recipient"]);
        Assert.Null(message["serviceUrl"]);
        Assert.Null(message["id"]);
    }
}
