using System.Net;
using System.Text.Json.Nodes;
using PrequelBot.Chat.Teams.Tests.Fakes;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Teams.Tests;

public sealed class ActivityTests : IAsyncLifetime
{
    private BotHost _bot = null!;

    public async Task InitializeAsync() => _bot = await BotHost.StartAsync();

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    [Fact]
    public async Task Status_message_reaches_the_handler_without_the_mention_and_the_reply_is_posted_with_a_bearer_token()
    {
        using var response = await _bot.PostAsync(_bot.Activity(text: "<at>PrequelBot</at>&nbsp;status  ob-7k2m9q"), _bot.ValidToken());
        var calls = await _bot.Connector.WaitForDeliveriesAsync(1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var request = Assert.Single(_bot.Commands.Requests);
        Assert.Equal("status ob-7k2m9q", request.Text);
        Assert.Equal(new ChatUser("teams", "7faf8ab2-3d56-4244-b585-20c8a42ed2b8", "Megan Bowen"), request.User);
        Assert.Equal(BotHost.ConversationId, request.Conversation.ConversationId);
        Assert.Contains(_bot.Connector.ServiceUrl, request.Conversation.AdapterData, StringComparison.Ordinal);
        Assert.DoesNotContain(FakeBotFrameworkAuthority.AppPassword, request.Conversation.AdapterData, StringComparison.Ordinal);

        var reply = Assert.Single(calls);
        Assert.Equal("POST", reply.Method);
        Assert.Equal("Bearer fake-outbound", reply.Authorization);
        Assert.Equal("/connector/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D1700000000000/activities/1700000123456", reply.RawTarget);
        Assert.Equal("echo: status ob-7k2m9q", (string?)reply.Body["text"]);
        Assert.Equal(BotHost.BotId, (string?)reply.Body["from"]?["id"]);
        Assert.Null(reply.Body["recipient"]);
        Assert.Null(reply.Body["serviceUrl"]);
        Assert.Equal(1, _bot.Authority.TokenRequests);
    }

    [Fact]
    public async Task Checklist_reply_is_rendered_as_an_adaptive_card()
    {
        _bot.Commands.Reply = _ => new CommandReply("checklist") { Checklist = CardViews.Onboarding(OnboardingStates.Running) };

        await _bot.PostAsync(_bot.Activity(text: "<at>PrequelBot</at> status ob-7k2m9q"), _bot.ValidToken());
        var reply = Assert.Single(await _bot.Connector.WaitForDeliveriesAsync(1));

        var attachment = reply.Body["attachments"]![0]!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", (string?)attachment["contentType"]);
        Assert.Equal("1.5", (string?)attachment["content"]!["version"]);
        Assert.Contains("security-group", attachment["content"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_click_is_passed_to_the_decider_as_the_clicking_aad_user()
    {
        var value = new JsonObject { ["action"] = ApprovalActions.Approve, ["approvalId"] = "ap-123" };

        using var response = await _bot.PostAsync(_bot.Activity(text: null, value: value), _bot.ValidToken());
        await WaitUntilAsync(() => !_bot.Decider.Decisions.IsEmpty);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decision = Assert.Single(_bot.Decider.Decisions);
        Assert.Equal("ap-123", decision.ApprovalId);
        Assert.True(decision.Approve);
        Assert.Equal("7faf8ab2-3d56-4244-b585-20c8a42ed2b8", decision.Actor.Id);
        Assert.Empty(_bot.Commands.Requests);
    }

    [Fact]
    public async Task Refused_click_gets_the_decider_message_as_a_reply()
    {
        _bot.Decider.Outcome = DecisionOutcome.NotAllowed;
        var value = new JsonObject { ["action"] = ApprovalActions.Reject, ["approvalId"] = "ap-123" };

        await _bot.PostAsync(_bot.Activity(value: value), _bot.ValidToken());
        var reply = Assert.Single(await _bot.Connector.WaitForDeliveriesAsync(1));

        Assert.False(Assert.Single(_bot.Decider.Decisions).Approve);
        Assert.Equal("You are not allowed to approve this.", (string?)reply.Body["text"]);
    }

    [Fact]
    public async Task Bot_added_to_a_conversation_posts_a_welcome_with_the_help_text()
    {
        var activity = _bot.Activity(type: "conversationUpdate");
        activity["membersAdded"] = new JsonArray(new JsonObject { ["id"] = BotHost.BotId });

        using var response = await _bot.PostAsync(activity, _bot.ValidToken());
        var welcome = Assert.Single(await _bot.Connector.WaitForDeliveriesAsync(1));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/connector/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D1700000000000/activities", welcome.RawTarget);
        Assert.Contains("connect <db>", (string?)welcome.Body["text"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Someone_else_joining_gets_no_welcome()
    {
        var activity = _bot.Activity(type: "conversationUpdate");
        activity["membersAdded"] = new JsonArray(new JsonObject { ["id"] = "29:someone" });

        using var response = await _bot.PostAsync(activity, _bot.ValidToken());
        await Task.Delay(300);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(_bot.Connector.Calls);
    }

    [Theory]
    [InlineData("typing")]
    [InlineData("installationUpdate")]
    [InlineData("somethingFromTheFuture")]
    public async Task Unknown_activity_types_are_acknowledged_and_ignored(string type)
    {
        using var response = await _bot.PostAsync(_bot.Activity(type: type, text: "status"), _bot.ValidToken());
        await Task.Delay(200);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(_bot.Commands.Requests);
        Assert.Empty(_bot.Connector.Calls);
    }

    [Fact]
    public async Task Handler_failure_is_answered_with_a_generic_error_and_no_details()
    {
        _bot.Commands.Reply = _ => throw new InvalidOperationException("Host=db;Password=hunter2");

        await _bot.PostAsync(_bot.Activity(text: "<at>PrequelBot</at> status"), _bot.ValidToken());
        var reply = Assert.Single(await _bot.Connector.WaitForDeliveriesAsync(1));

        Assert.Equal(TeamsActivityProcessor.CommandFailedText, (string?)reply.Body["text"]);
        Assert.DoesNotContain("hunter2", reply.Body.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Other_invokes_get_501()
    {
        var activity = _bot.Activity(type: "invoke");
        activity["name"] = "composeExtension/query";

        using var response = await _bot.PostAsync(activity, _bot.ValidToken());

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        Assert.Empty(_bot.Commands.Requests);
    }

    [Fact]
    public async Task Oversized_activity_is_rejected_with_400()
    {
        using var response = await _bot.PostAsync(_bot.Activity(text: new string('x', 600 * 1024)), _bot.ValidToken());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_bot.Commands.Requests);
    }

    [Fact]
    public async Task Action_execute_invoke_gets_200_with_a_not_supported_body()
    {
        var activity = _bot.Activity(type: "invoke");
        activity["name"] = "adaptiveCard/action";

        using var response = await _bot.PostAsync(activity, _bot.ValidToken());
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(400, (int?)body["statusCode"]);
        Assert.Equal("application/vnd.microsoft.error", (string?)body["type"]);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(20);
    }
}
