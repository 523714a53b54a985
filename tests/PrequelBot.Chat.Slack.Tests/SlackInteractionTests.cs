using PrequelBot.Workflows.Chat;

namespace PrequelBot.Chat.Slack.Tests;

public class SlackInteractionTests
{
    internal static string Click(string actionId = ApprovalActions.Approve, string value = "ob-7k2m9q:security-group", string userId = "U0APPROVER", string? responseUrl = null) =>
        $$"""
        {"type":"block_actions","user":{"id":"{{userId}}","username":"ada","team_id":"T1DC2JH3J"},"api_app_id":"A0123456789","team":{"id":"T1DC2JH3J"},
         "container":{"type":"message","message_ts":"1531420700.000200","channel_id":"C0123456789","is_ephemeral":false,"thread_ts":"1531420650.000100"},
         "channel":{"id":"C0123456789","name":"data-eng"},"response_url":"{{responseUrl ?? "https://hooks.slack.com/actions/T1/1/a"}}",
         "actions":[{"type":"button","action_id":"{{actionId}}","block_id":"b1","value":"{{value}}","action_ts":"1531420712.345678"}]}
        """;

    [Fact]
    public void Approve_click_yields_the_approval_id_user_and_message_coordinates()
    {
        var kind = SlackInteraction.Parse(Click(), out var click);

        Assert.Equal(SlackInteractionKind.ApprovalClick, kind);
        Assert.Equal(new SlackApprovalClick("ob-7k2m9q:security-group", true, "U0APPROVER", "ada", "C0123456789", "1531420700.000200", "1531420650.000100", "https://hooks.slack.com/actions/T1/1/a"), click);
    }

    [Fact]
    public void Reject_click_is_not_an_approval()
    {
        SlackInteraction.Parse(Click(ApprovalActions.Reject), out var click);

        Assert.False(click!.Approve);
    }

    [Fact]
    public void Click_on_a_button_that_is_not_ours_is_ignored()
    {
        var kind = SlackInteraction.Parse(Click("some_other_button"), out var click);

        Assert.Equal(SlackInteractionKind.Ignored, kind);
        Assert.Null(click);
    }

    [Theory]
    [InlineData("""{"type":"view_submission","user":{"id":"U1"}}""")]
    [InlineData("""{"type":"shortcut"}""")]
    public void Other_interaction_types_are_ignored(string payload)
    {
        Assert.Equal(SlackInteractionKind.Ignored, SlackInteraction.Parse(payload, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"type":"block_actions"}""")]
    [InlineData("""{"type":"block_actions","actions":[{"action_id":"prequel_approve","value":"ob-1:x"}]}""")]
    public void Malformed_payloads_are_recognised(string? payload)
    {
        Assert.Equal(SlackInteractionKind.Malformed, SlackInteraction.Parse(payload, out _));
    }
}
