using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Workflows.Chat;

namespace PrequelBot.Chat.Slack.Tests;

public sealed class SlackEndpointTests : IAsyncLifetime
{
    private SlackTestHost _host = null!;

    public async Task InitializeAsync() => _host = await SlackTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private string Command(string text, string? responseUrl = null, string userId = "U2CERLKJA", string channelId = "C0123456789") =>
        SlackSigner.Form(
            ("token", "deprecated"), ("team_id", "T1DC2JH3J"), ("channel_id", channelId), ("user_id", userId), ("user_name", "roadrunner"),
            ("command", "/prequel"), ("text", text), ("response_url", responseUrl ?? _host.Slack.HooksUrl + "commands/T1/1/abc"),
            ("trigger_id", "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"));

    private Task<HttpResponseMessage> SendAsync(string path, string body, DateTimeOffset? at = null, string secret = SlackTestHost.Secret) =>
        _host.Client.SendAsync(SlackSigner.SignedForm(path, secret, body, at));

    [Fact]
    public async Task Signed_status_command_is_answered_ephemerally_within_three_seconds()
    {
        var started = DateTime.UtcNow;

        using var response = await SendAsync("/slack/commands", Command("status"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("ephemeral", (string?)json["response_type"]);
        Assert.Equal("You said: status", (string?)json["text"]);
        Assert.NotEmpty(json["blocks"]!.AsArray());
    }

    [Fact]
    public async Task A_reply_handed_out_again_is_served_as_rendered_and_a_new_one_is_rendered_anew()
    {
        // The command handler hands out the same reply instance while the status listing is unchanged; the adapter
        // serves it without rendering again, and renders any other reply (docs/architecture.md, "The status fast path").
        var shared = new CommandReply("Onboardings:\nob-1 db01: running");
        _host.Handler.Reply = r => r.Text == "status" ? shared : new CommandReply("Onboardings:\nob-2 db02: completed");

        var first = await BodyAsync("status");
        var again = await BodyAsync("status");
        var other = await BodyAsync("status ob-2");
        shared = new CommandReply("Onboardings:\nob-1 db01: completed");
        var changed = await BodyAsync("status");

        Assert.Equal(first, again);
        Assert.Equal("Onboardings:\nob-1 db01: running", (string?)JsonNode.Parse(first)!["text"]);
        Assert.Equal("ephemeral", (string?)JsonNode.Parse(again)!["response_type"]);
        Assert.Equal("Onboardings:\nob-2 db02: completed", (string?)JsonNode.Parse(other)!["text"]);
        Assert.Equal("Onboardings:\nob-1 db01: completed", (string?)JsonNode.Parse(changed)!["text"]);

        async Task<string> BodyAsync(string text)
        {
            using var response = await SendAsync("/slack/commands", Command(text));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            return await response.Content.ReadAsStringAsync();
        }
    }

    [Fact]
    public async Task Command_reaches_the_handler_with_slack_user_channel_and_team()
    {
        using var response = await SendAsync("/slack/commands", Command("connect orders-db --replica"));

        var request = Assert.Single(_host.Handler.Requests);
        Assert.Equal(new ChatUserExpectation("slack", "U2CERLKJA", "roadrunner"), new ChatUserExpectation(request.User.Platform, request.User.Id, request.User.DisplayName));
        Assert.Equal("slack", request.Conversation.Platform);
        Assert.Equal("C0123456789", request.Conversation.ConversationId);
        Assert.Equal("T1DC2JH3J", (string?)JsonNode.Parse(request.Conversation.AdapterData!)!["team_id"]);
        Assert.Equal("connect orders-db --replica", request.Text);
    }

    [Fact]
    public async Task Slow_command_is_acknowledged_then_answered_through_the_response_url()
    {
        _host.Handler.Delay = TimeSpan.FromSeconds(2.5);

        using var response = await SendAsync("/slack/commands", Command("plan orders-db"));

        var ack = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("ephemeral", (string?)ack["response_type"]);
        Assert.Equal("Working on it…", (string?)ack["text"]);
        var late = Assert.Single(await _host.Slack.WaitForCallsAsync("hooks/commands/T1/1/abc"));
        Assert.Equal("ephemeral", (string?)late.Body["response_type"]);
        Assert.Equal("You said: plan orders-db", (string?)late.Body["text"]);
        Assert.Equal("", late.Authorization);
        Assert.DoesNotContain(_host.Logs.Lines, l => l.Contains("commands/T1/1/abc", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Late_reply_is_never_sent_to_a_host_that_is_not_slack()
    {
        _host.Handler.Delay = TimeSpan.FromSeconds(2.5);

        using var response = await SendAsync("/slack/commands", Command("plan orders-db", responseUrl: "https://attacker.example/steal"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await WaitUntilAsync(() => _host.Logs.Lines.Any(l => l.Contains("Late reply to U2CERLKJA dropped", StringComparison.Ordinal)));
        Assert.Empty(_host.Slack.Calls);
    }

    [Fact]
    public async Task Failing_handler_gives_an_ephemeral_error_not_a_500()
    {
        _host.Handler.Reply = _ => throw new InvalidOperationException("boom");

        using var response = await SendAsync("/slack/commands", Command("status"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Something went wrong", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["text"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forged_signature_is_rejected_with_401_and_the_handler_is_never_called()
    {
        using var response = await SendAsync("/slack/commands", Command("connect orders-db"), secret: "forged-secret");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_host.Handler.Requests);
    }

    [Fact]
    public async Task Stale_request_is_rejected_with_401_and_the_handler_is_never_called()
    {
        using var response = await SendAsync("/slack/commands", Command("connect orders-db"), at: DateTimeOffset.UtcNow.AddMinutes(-6));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_host.Handler.Requests);
    }

    [Fact]
    public async Task Unsigned_request_is_rejected_with_401()
    {
        using var content = new StringContent(Command("status"), Encoding.UTF8, "application/x-www-form-urlencoded");

        using var response = await _host.Client.PostAsync(new Uri("/slack/commands", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_host.Handler.Requests);
    }

    [Fact]
    public async Task Command_without_user_id_is_rejected_with_400()
    {
        var body = SlackSigner.Form(("channel_id", "C0123456789"), ("command", "/prequel"), ("text", "status"));

        using var response = await SendAsync("/slack/commands", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_host.Handler.Requests);
    }

    [Fact]
    public async Task Signed_body_that_is_not_a_form_is_rejected_with_400()
    {
        var request = SlackSigner.SignedForm("/slack/commands", SlackTestHost.Secret, """{"user_id":"U1"}""");
        request.Content!.Headers.ContentType = new("application/json");

        using var response = await _host.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_host.Handler.Requests);
    }

    [Fact]
    public async Task Oversized_body_is_refused_without_a_500()
    {
        var body = Command(new string('x', 70_000));

        using var response = await SendAsync("/slack/commands", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Empty(_host.Handler.Requests);
    }

    [Fact]
    public async Task Approve_click_calls_the_decider_with_the_approval_id_and_the_user()
    {
        using var response = await SendAsync("/slack/interactions", SlackSigner.Form(("payload", SlackInteractionTests.Click())));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decision = Assert.Single(_host.Decider.Decisions);
        Assert.Equal("ob-7k2m9q:security-group", decision.ApprovalId);
        Assert.Equal("U0APPROVER", decision.Actor.Id);
        Assert.Equal("slack", decision.Actor.Platform);
        Assert.True(decision.Approve);
    }

    [Fact]
    public async Task Recorded_click_sends_no_private_message()
    {
        using var response = await SendAsync("/slack/interactions", SlackSigner.Form(("payload", SlackInteractionTests.Click(ApprovalActions.Reject))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(Assert.Single(_host.Decider.Decisions).Approve);
        await Task.Delay(300);
        Assert.Empty(_host.Slack.Calls);
    }

    [Fact]
    public async Task Click_by_someone_not_allowed_gets_an_ephemeral_message_in_the_thread()
    {
        _host.Decider.Outcome = DecisionOutcome.NotAllowed;

        using var response = await SendAsync("/slack/interactions", SlackSigner.Form(("payload", SlackInteractionTests.Click(userId: "U0STRANGER"))));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(await _host.Slack.WaitForCallsAsync("chat.postEphemeral"));
        Assert.Equal("C0123456789", (string?)call.Body["channel"]);
        Assert.Equal("U0STRANGER", (string?)call.Body["user"]);
        Assert.Equal("1531420650.000100", (string?)call.Body["thread_ts"]);
        Assert.Equal("You are not allowed to approve this step.", (string?)call.Body["text"]);
    }

    [Fact]
    public async Task Forged_click_is_rejected_with_401_and_nothing_is_decided()
    {
        using var response = await SendAsync("/slack/interactions", SlackSigner.Form(("payload", SlackInteractionTests.Click())), secret: "forged");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(_host.Decider.Decisions);
    }

    [Theory]
    [InlineData("payload={not json")]
    [InlineData("nopayload=1")]
    public async Task Malformed_interaction_payload_is_rejected_with_400(string body)
    {
        using var response = await SendAsync("/slack/interactions", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_host.Decider.Decisions);
    }

    [Fact]
    public async Task Other_interaction_types_are_acknowledged_and_ignored()
    {
        using var response = await SendAsync("/slack/interactions", SlackSigner.Form(("payload", """{"type":"view_closed","user":{"id":"U1"}}""")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(_host.Decider.Decisions);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Condition not met in time.");
            await Task.Delay(25);
        }
    }

    private sealed record ChatUserExpectation(string Platform, string Id, string? DisplayName);
}
