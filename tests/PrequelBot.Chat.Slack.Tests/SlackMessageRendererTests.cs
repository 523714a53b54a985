using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Slack.Tests;

public class SlackMessageRendererTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 23, 10, 15, 0, TimeSpan.Zero);

    private static ApprovalPromptView Prompt(string state = ApprovalStates.Pending, int changes = 1) => new()
    {
        ApprovalId = "ob-7k2m9q:security-group",
        OnboardingId = "ob-7k2m9q",
        Database = "orders-db",
        Step = StepNames.SecurityGroup,
        Changes = Enumerable.Range(0, changes).Select(i => $"add inbound TCP 5432 from 35.192.85.{i % 256}/32 to sg-0abc").ToList(),
        Note = "Prequel connects from its static IPs.",
        State = state,
        DecidedBy = state is ApprovalStates.Approved or ApprovalStates.Rejected ? new ChatUser("slack", "U0APPROVER", "ada") : null,
        DecidedAt = state is ApprovalStates.Approved or ApprovalStates.Rejected ? At : null,
        ExpiresAt = At.AddDays(1),
    };

    private static OnboardingCardView Card(string? message = null) => new()
    {
        OnboardingId = "ob-7k2m9q",
        Database = "orders-db",
        Requester = new ChatUser("slack", "U2CERLKJA", "roadrunner"),
        State = OnboardingStates.AwaitingApproval,
        Steps =
        [
            new StepView(StepNames.Discover, StepStates.Completed, "postgres 16.3 in vpc-1"),
            new StepView(StepNames.SecurityGroup, StepStates.AwaitingApproval, null),
            new StepView(StepNames.CreateUser, StepStates.Pending, null),
        ],
        Message = message,
        UpdatedAt = At,
    };

    private static IEnumerable<JsonObject> Blocks(SlackMessage message) => message.Blocks.Select(b => b!.AsObject());

    /// <summary>Every string value in the blocks, one per line (JSON escaping aside).</summary>
    private static string AllText(SlackMessage message) => string.Join('\n', Strings(message.Blocks));

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };

    [Fact]
    public void Pending_prompt_has_approve_and_reject_buttons_carrying_the_approval_id()
    {
        var message = SlackMessageRenderer.Prompt(Prompt());

        var actions = Assert.Single(Blocks(message), b => (string?)b["type"] == "actions");
        var buttons = actions["elements"]!.AsArray().Select(e => e!.AsObject()).ToList();
        Assert.Equal(["Approve", "Reject"], buttons.Select(b => (string?)b["text"]!["text"]));
        Assert.Equal([ApprovalActions.Approve, ApprovalActions.Reject], buttons.Select(b => (string?)b["action_id"]));
        Assert.Equal(["primary", "danger"], buttons.Select(b => (string?)b["style"]));
        Assert.All(buttons, b => Assert.Equal("ob-7k2m9q:security-group", (string?)b["value"]));
        Assert.StartsWith("ob-7k2m9q:security-group.", (string?)actions["block_id"]);
    }

    [Fact]
    public void Reject_button_asks_for_confirmation_and_approve_does_not()
    {
        var message = SlackMessageRenderer.Prompt(Prompt());

        var buttons = Blocks(message).Single(b => (string?)b["type"] == "actions")["elements"]!.AsArray();
        Assert.Null(buttons[0]!["confirm"]);
        var confirm = buttons[1]!["confirm"]!.AsObject();
        Assert.Equal("Reject", (string?)confirm["confirm"]!["text"]);
        Assert.False(string.IsNullOrEmpty((string?)confirm["title"]!["text"]));
        Assert.True(((string?)confirm["text"]!["text"])!.Length <= 300);
    }

    [Fact]
    public void Each_render_of_a_pending_prompt_gets_a_new_block_id()
    {
        string? BlockId() => (string?)Blocks(SlackMessageRenderer.Prompt(Prompt())).Single(b => (string?)b["type"] == "actions")["block_id"];

        Assert.NotEqual(BlockId(), BlockId());
    }

    [Fact]
    public void Prompt_states_the_exact_change_and_the_note()
    {
        var message = SlackMessageRenderer.Prompt(Prompt());

        Assert.Contains("add inbound TCP 5432 from 35.192.85.0/32 to sg-0abc", AllText(message), StringComparison.Ordinal);
        Assert.Contains("Prequel connects from its static IPs.", AllText(message), StringComparison.Ordinal);
        Assert.Equal(Prompt().ToText(), message.Text);
    }

    [Theory]
    [InlineData(ApprovalStates.Approved, "Approved by <@U0APPROVER> at <!date^")]
    [InlineData(ApprovalStates.Rejected, "Rejected by <@U0APPROVER> at <!date^")]
    [InlineData(ApprovalStates.Expired, "Expired")]
    [InlineData(ApprovalStates.Cancelled, "Cancelled")]
    public void Decided_prompt_has_no_buttons_and_says_what_happened(string state, string expected)
    {
        var message = SlackMessageRenderer.Prompt(Prompt(state));

        Assert.DoesNotContain(Blocks(message), b => (string?)b["type"] == "actions");
        Assert.Contains(expected, AllText(message), StringComparison.Ordinal);
    }

    [Fact]
    public void Approved_prompt_shows_the_decision_time_as_a_slack_date_token()
    {
        var message = SlackMessageRenderer.Prompt(Prompt(ApprovalStates.Approved));

        Assert.Contains($"<!date^{At.ToUnixTimeSeconds()}^", AllText(message), StringComparison.Ordinal);
        Assert.Contains("|2026-11-23 10:15 UTC>", AllText(message), StringComparison.Ordinal);
    }

    [Fact]
    public void Long_change_lists_are_truncated_within_slack_limits()
    {
        var message = SlackMessageRenderer.Prompt(Prompt(changes: 500));

        var sections = Blocks(message).Where(b => (string?)b["type"] == "section").Select(b => (string)b["text"]!["text"]!).ToList();
        Assert.All(sections, text => Assert.InRange(text.Length, 1, 3000));
        var list = sections.Single(t => t.Contains("… and ", StringComparison.Ordinal));
        var shown = list.Split('\n').Count(l => l.StartsWith('•'));
        Assert.EndsWith($"… and {500 - shown} more", list, StringComparison.Ordinal);
        Assert.True(message.Blocks.Count <= 50);
    }

    [Fact]
    public void User_text_is_escaped()
    {
        var prompt = Prompt() with { Changes = ["grant <all> & more"], Note = "<!channel>" };

        var text = AllText(SlackMessageRenderer.Prompt(prompt));

        Assert.Contains("grant &lt;all&gt; &amp; more", text, StringComparison.Ordinal);
        Assert.Contains("&lt;!channel&gt;", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<!channel>", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Card_shows_id_database_requester_state_and_each_step_with_its_emoji()
    {
        var message = SlackMessageRenderer.Card(Card("waiting for approval"));

        var header = Blocks(message).First();
        Assert.Equal("header", (string?)header["type"]);
        Assert.Contains("ob-7k2m9q", (string?)header["text"]!["text"], StringComparison.Ordinal);
        var text = AllText(message);
        Assert.Contains("`orders-db`", text, StringComparison.Ordinal);
        Assert.Contains("<@U2CERLKJA>", text, StringComparison.Ordinal);
        Assert.Contains("awaiting-approval", text, StringComparison.Ordinal);
        Assert.Contains(":white_check_mark: `discover` completed — postgres 16.3 in vpc-1", text, StringComparison.Ordinal);
        Assert.Contains(":raised_hand: `security-group` awaiting approval", text, StringComparison.Ordinal);
        Assert.Contains("waiting for approval", text, StringComparison.Ordinal);
        Assert.Equal(Card("waiting for approval").ToText(), message.Text);
    }

    [Fact]
    public void Error_reply_is_the_text_only()
    {
        var message = SlackMessageRenderer.Reply(CommandReply.Error("Unknown option --replcia. Try `/prequel help`."));

        Assert.Equal("Unknown option --replcia. Try `/prequel help`.", message.Text);
        Assert.Contains("Unknown option --replcia.", AllText(message), StringComparison.Ordinal);
    }

    [Fact]
    public void Status_reply_renders_the_checklist_and_the_onboarding_list()
    {
        var reply = new CommandReply("Status")
        {
            Checklist = Card(),
            Onboardings = [new OnboardingSummary("ob-aaaa", "billing-db", OnboardingStates.Running, StepNames.CreateUser, new ChatUser("slack", "U1"), At)],
        };

        var text = AllText(SlackMessageRenderer.Reply(reply));

        Assert.Contains("`security-group` awaiting approval", text, StringComparison.Ordinal);
        Assert.Contains("`ob-aaaa` `billing-db` running (create-user)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_structured_reply_shows_its_view_once_and_keeps_the_text_as_the_notification_fallback()
    {
        var reply = new CommandReply("Onboardings:\nob-aaaa billing-db: running at create-user")
        {
            Onboardings = [new OnboardingSummary("ob-aaaa", "billing-db", OnboardingStates.Running, StepNames.CreateUser, new ChatUser("slack", "U1"), At)],
        };

        var message = SlackMessageRenderer.Reply(reply);

        Assert.Equal(reply.Text, message.Text);
        Assert.Single(Regex.Matches(AllText(message), "ob-aaaa"));
    }

    [Fact]
    public void An_empty_status_list_says_how_to_start()
    {
        var message = SlackMessageRenderer.Reply(new CommandReply("No onboardings yet. Start one with: connect <db>") { Onboardings = [] });

        Assert.Contains("Start one with: connect &lt;db&gt;", AllText(message), StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_reply_lists_each_step_with_its_changes()
    {
        var reply = new CommandReply("Plan for orders-db")
        {
            Plan = new PlanView("orders-db", "orders-db-prequel-replica",
            [
                new PlannedStepView(StepNames.CreateReplica, ["create read replica orders-db-prequel-replica"], null, null, true),
                new PlannedStepView(StepNames.PublicAccess, [], null, "already public", false),
            ]),
        };

        var message = SlackMessageRenderer.Reply(reply);

        var text = AllText(message);
        Assert.Contains("*create-replica* :raised_hand: needs approval\n• create read replica orders-db-prequel-replica", text, StringComparison.Ordinal);
        Assert.Contains("*public-access* — already public", text, StringComparison.Ordinal);
        Assert.Contains("orders-db-prequel-replica", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reply_with_many_plan_steps_keeps_at_most_50_blocks()
    {
        var steps = Enumerable.Range(0, 80).Select(i => new PlannedStepView($"step-{i}", [$"change {i}"], $"note {i}", null, true)).ToList();
        var reply = new CommandReply("Plan") { Plan = new PlanView("db", "db", steps) };

        var message = SlackMessageRenderer.Reply(reply);

        Assert.Equal(50, message.Blocks.Count);
        Assert.Contains("… and ", string.Join(" ", Strings(message.Blocks[^1])), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-11-23T10:15:59+00:00", "<!date^1795428959^{date_short_pretty} at {time}|2026-11-23 10:15 UTC>")]
    [InlineData("2026-01-02T00:05:00+02:00", "<!date^1767305100^{date_short_pretty} at {time}|2026-01-01 22:05 UTC>")]
    [InlineData("0099-03-04T05:06:07+00:00", "<!date^-59037620033^{date_short_pretty} at {time}|0099-03-04 05:06 UTC>")]
    public void A_date_is_slacks_date_token_with_a_utc_fallback(string at, string expected)
    {
        var value = DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(expected, SlackBlockKit.Date(value));
        Assert.Equal(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"<!date^{value.ToUnixTimeSeconds()}^{{date_short_pretty}} at {{time}}|{value.UtcDateTime:yyyy-MM-dd HH:mm} UTC>"), SlackBlockKit.Date(value));
    }

    [Theory]
    [InlineData("status", true)]
    [InlineData("  Status ob-7k2m9q", true)]
    [InlineData("help", true)]
    [InlineData("", true)]
    [InlineData("statusx", false)]
    [InlineData("connect orders-db", false)]
    [InlineData("retry ob-7k2m9q", false)]
    public void Only_read_only_commands_start_on_the_request_thread(string text, bool inline) =>
        Assert.Equal(inline, SlackInboundHandler.StartsInline(text));
}
