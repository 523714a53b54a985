using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

/// <summary>
/// Slack end to end through the real host: signed slash commands and button clicks in, Web API calls out to a fake
/// Slack on 127.0.0.1, the real workflow, Hangfire servers and state store in between.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed partial class SlackHostTests : IAsyncLifetime
{
    private static readonly string[] ApprovalSteps = [StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-slackhost-" + Guid.NewGuid().ToString("N"));
    private SlackBotHost _host = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _host = await SlackBotHost.StartAsync(_directory);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [GeneratedRegex("ob-[a-z0-9]{4,12}")]
    private static partial Regex OnboardingId();

    private static string Text(JsonObject? reply) => reply?["text"]?.GetValue<string>() ?? "";

    private async Task<string> ConnectAsync(string text = "connect mydb", string requesterId = SlackBotHost.RequesterId)
    {
        var (status, reply) = await _host.CommandAsync(text, requesterId);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ephemeral", reply?["response_type"]?.GetValue<string>());
        Assert.StartsWith("Started onboarding", Text(reply), StringComparison.Ordinal);
        return OnboardingId().Match(Text(reply)).Value;
    }

    private async Task<OnboardingState> StateAsync(string id) => (await _host.LoadAsync(id)).Onboarding.State;

    [Fact]
    public async Task A_connect_posts_one_card_asks_in_its_thread_and_completes_when_the_posted_buttons_are_clicked()
    {
        var id = await ConnectAsync();

        var clicked = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await StateAsync(id) != OnboardingState.Completed && DateTime.UtcNow < deadline)
        {
            Assert.NotEqual(OnboardingState.Failed, await StateAsync(id));
            foreach (var prompt in _host.PendingPrompts.Where(p => !clicked.Contains(p.Ts)))
            {
                Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Approve"));
                clicked.Add(prompt.Ts);
            }
            await Task.Delay(50);
        }

        Assert.Equal(OnboardingState.Completed, await StateAsync(id));
        await BotHost.EventuallyAsync(
            () => Task.FromResult(_host.Card?.Text?.StartsWith($"Onboarding {id} of mydb: completed", StringComparison.Ordinal) == true
                                  && _host.Prompts.Count == ApprovalSteps.Length && _host.PendingPrompts.Count == 0),
            "the card shows completed and every prompt is decided", TimeSpan.FromSeconds(60));

        var card = _host.Card!;
        var cardPosts = _host.Slack.CallsTo("chat.postMessage").Where(c => c.Body["thread_ts"] is null).ToList();
        var cardPost = Assert.Single(cardPosts);
        Assert.Equal(SlackBotHost.ChannelId, cardPost.Body["channel"]!.GetValue<string>());
        Assert.Contains($"Onboarding {id}", cardPost.Body["blocks"]!.ToJsonString(), StringComparison.Ordinal);
        var lastCardUpdate = _host.Slack.CallsTo("chat.update").Last(c => c.Body["ts"]!.GetValue<string>() == card.Ts);
        Assert.StartsWith($"Onboarding {id} of mydb: completed", lastCardUpdate.Body["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var promptPosts = _host.Slack.CallsTo("chat.postMessage").Where(c => c.Body["thread_ts"] is not null).ToList();
        Assert.Equal(ApprovalSteps.Length, promptPosts.Count);
        Assert.All(promptPosts, p => Assert.Equal(card.Ts, p.Body["thread_ts"]!.GetValue<string>()));
        Assert.All(promptPosts, p => Assert.Contains("\"Approve\"", p.Body["blocks"]!.ToJsonString(), StringComparison.Ordinal));
        Assert.All(promptPosts, p => Assert.Contains("\"Reject\"", p.Body["blocks"]!.ToJsonString(), StringComparison.Ordinal));
        Assert.Equal(ApprovalSteps, _host.Prompts.Select(p => ApprovalSteps.Single(s => p.Text!.Contains($"for {s} of", StringComparison.Ordinal))));
        Assert.All(_host.Prompts, p =>
        {
            Assert.False(SlackBotHost.HasButtons(p));
            Assert.Contains($"Approved by <@{SlackBotHost.ApproverId}>", SlackBotHost.Visible(p), StringComparison.Ordinal);
        });
        Assert.All(_host.Slack.Calls, c => Assert.Equal("Bearer xoxb-test", c.Authorization));
        foreach (var step in ApprovalSteps)
            Assert.Equal(1, _host.World.EffectCount(FakeInfrastructure.EffectOf(step, (await _host.LoadAsync(id)).Onboarding.Request)));
    }

    [Theory]
    [InlineData(SlackBotHost.RequesterId, SlackBotHost.OutsiderId, "not in Approvals:Approvers")]
    [InlineData(SlackBotHost.ApproverId, SlackBotHost.ApproverId, "self-approval is off")]
    public async Task A_click_by_someone_who_may_not_decide_is_answered_privately_and_changes_nothing(string requesterId, string userId, string why)
    {
        var id = await ConnectAsync(requesterId: requesterId);
        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);

        Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Approve", userId));

        var answers = await _host.Slack.WaitForCallsAsync("chat.postEphemeral", timeout: TimeSpan.FromSeconds(30));
        var answer = Assert.Single(answers).Body;
        Assert.Equal(userId, answer["user"]!.GetValue<string>());
        Assert.Equal(prompt.Channel, answer["channel"]!.GetValue<string>());
        Assert.Equal(prompt.ThreadTs, answer["thread_ts"]?.GetValue<string>());
        Assert.Contains("Not allowed", answer["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(why, answer["text"]!.GetValue<string>(), StringComparison.Ordinal);

        var agg = await _host.LoadAsync(id);
        Assert.Equal(OnboardingState.AwaitingApproval, agg.Onboarding.State);
        var approval = Assert.Single(agg.Approvals);
        Assert.Equal(ApprovalState.Pending, approval.State);
        Assert.Null(approval.DecidedBy);
        Assert.True(SlackBotHost.HasButtons(_host.Slack.Messages[prompt.Ts]));
        Assert.False(_host.World.Applies.ContainsKey(StepNames.PublicAccess));
    }

    [Fact]
    public async Task Reject_stops_the_onboarding_and_nothing_is_applied()
    {
        var id = await ConnectAsync();
        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);

        Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Reject"));

        await BotHost.EventuallyAsync(async () => await StateAsync(id) == OnboardingState.Rejected, "the onboarding is rejected");
        await BotHost.EventuallyAsync(
            () => Task.FromResult(!SlackBotHost.HasButtons(_host.Slack.Messages[prompt.Ts])
                                  && _host.Card?.Text?.StartsWith($"Onboarding {id} of mydb: rejected", StringComparison.Ordinal) == true),
            "the prompt and the card show the rejection");
        Assert.Contains($"Rejected by <@{SlackBotHost.ApproverId}>", SlackBotHost.Visible(_host.Slack.Messages[prompt.Ts]), StringComparison.Ordinal);
        Assert.Empty(_host.World.Effects);
        Assert.Equal(new[] { StepNames.Discover }, _host.World.Applies.Keys);
        Assert.Single(_host.Prompts);
    }

    [Fact]
    public async Task A_double_click_on_Approve_applies_the_step_once()
    {
        var id = await ConnectAsync();
        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);

        var clicks = await Task.WhenAll(_host.ClickAsync(prompt, "Approve"), _host.ClickAsync(prompt, "Approve"));
        await _host.PendingPromptAsync(StepNames.SecurityGroup);
        Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Approve"));

        Assert.All(clicks, c => Assert.Equal(HttpStatusCode.OK, c));
        var agg = await _host.LoadAsync(id);
        var decided = Assert.Single(agg.Approvals, a => a.Step == StepNames.PublicAccess);
        Assert.Equal(ApprovalState.Approved, decided.State);
        Assert.Equal(SlackBotHost.ApproverId, decided.DecidedBy?.Id);
        Assert.Equal(1, _host.World.Applies[StepNames.PublicAccess]);
        Assert.Equal(1, _host.World.EffectCount(FakeInfrastructure.EffectOf(StepNames.PublicAccess, agg.Onboarding.Request)));
        Assert.Equal(StepState.AwaitingApproval, agg.Step(StepNames.SecurityGroup).State);
        var late = await _host.Slack.WaitForCallsAsync("chat.postEphemeral", timeout: TimeSpan.FromSeconds(30));
        Assert.Contains("Nothing changed", late[^1].Body["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsigned_forged_or_stale_requests_are_refused_with_401_and_change_nothing()
    {
        var connect = SlackBotHost.Form(("team_id", SlackBotHost.TeamId), ("channel_id", SlackBotHost.ChannelId), ("user_id", SlackBotHost.RequesterId),
            ("command", "/prequel"), ("text", "connect mydb"), ("response_url", _host.Slack.HooksUrl + "commands/forged"));

        await AssertEveryForgeryRefusedAsync("/slack/commands", connect);

        Assert.Empty(await _host.OnboardingsAsync());
        Assert.Empty(_host.Slack.Calls);

        var id = await ConnectAsync();
        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);
        var callsBefore = _host.Slack.Calls.Count;

        await AssertEveryForgeryRefusedAsync("/slack/interactions", ApproveClickBody(prompt));

        Assert.Equal(id, Assert.Single(await _host.OnboardingsAsync()).Id);
        Assert.Equal(ApprovalState.Pending, Assert.Single((await _host.LoadAsync(id)).Approvals).State);
        Assert.False(_host.World.Applies.ContainsKey(StepNames.PublicAccess));
        Assert.DoesNotContain(_host.Slack.Calls.Skip(callsBefore), c => c.Method is "chat.postEphemeral" || c.Method.StartsWith("hooks/", StringComparison.Ordinal));
    }

    private async Task AssertEveryForgeryRefusedAsync(string path, string body)
    {
        using var wrongSecret = await _host.SendAsync(path, body, secret: "not-the-signing-secret");
        using var stale = await _host.SendAsync(path, body, at: DateTimeOffset.UtcNow.AddMinutes(-6));
        using var future = await _host.SendAsync(path, body, at: DateTimeOffset.UtcNow.AddMinutes(6));
        using var unsignedRequest = Unsigned(path, body);
        using var unsigned = await _host.SendRawAsync(unsignedRequest);
        using var tamperedRequest = Tampered(path, body);
        using var tampered = await _host.SendRawAsync(tamperedRequest);

        Assert.Equal(HttpStatusCode.Unauthorized, wrongSecret.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, future.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tampered.StatusCode);
    }

    [Fact]
    public async Task A_malformed_form_or_payload_is_refused_with_400_and_changes_nothing()
    {
        var form = SlackBotHost.Form(("user_id", SlackBotHost.RequesterId), ("channel_id", SlackBotHost.ChannelId), ("command", "/prequel"), ("text", "connect mydb"));

        Assert.Equal(HttpStatusCode.BadRequest, await _host.StatusOfAsync("/slack/commands", "{\"text\":\"connect mydb\"}", contentType: "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, await _host.StatusOfAsync("/slack/commands", form, contentType: "text/plain"));
        Assert.Equal(HttpStatusCode.BadRequest, await _host.StatusOfAsync("/slack/commands", "command=%2Fprequel&text=connect+mydb"));
        Assert.Equal(HttpStatusCode.BadRequest, await _host.StatusOfAsync("/slack/interactions", "payload=" + WebUtility.UrlEncode("{\"type\":\"block_actions\",\"actions\":[{")));
        Assert.Equal(HttpStatusCode.BadRequest, await _host.StatusOfAsync("/slack/interactions", "payload=" + WebUtility.UrlEncode("[1,2,3]")));
        Assert.Equal(HttpStatusCode.BadRequest, await _host.StatusOfAsync("/slack/interactions", "nothing=here"));

        Assert.Empty(await _host.OnboardingsAsync());
        Assert.Empty(_host.Slack.Calls);
        Assert.Empty(_host.World.Applies);
    }

    [Fact]
    public async Task While_Slack_answers_429_the_workflow_moves_on_and_the_card_follows_once_Slack_recovers()
    {
        _host.Slack.RateLimitNext(10_000, retryAfterSeconds: 1);

        var id = await ConnectAsync();

        await BotHost.EventuallyAsync(async () =>
        {
            var agg = await _host.LoadAsync(id);
            return agg.Step(StepNames.Discover).State == StepState.Completed && agg.Step(StepNames.PublicAccess).State == StepState.AwaitingApproval;
        }, "discover completes and public-access awaits approval", TimeSpan.FromSeconds(60));
        await _host.Slack.WaitForCallsAsync("chat.postMessage", timeout: TimeSpan.FromSeconds(30));
        Assert.Empty(_host.Slack.Messages);

        _host.Slack.ClearFaults();

        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);
        Assert.Equal(_host.Card!.Ts, prompt.ThreadTs);
        Assert.Single(_host.Slack.Messages.Values, m => m.ThreadTs is null);
        await BotHost.EventuallyAsync(
            () => Task.FromResult(_host.Card?.Text?.Contains($"{StepNames.PublicAccess}: {StepStates.Display(StepStates.AwaitingApproval)}", StringComparison.Ordinal) == true),
            "the card shows public-access awaiting approval");
    }

    [Fact]
    public async Task Help_status_and_bad_text_are_answered_privately_and_bad_text_changes_nothing()
    {
        var (helpStatus, help) = await _host.CommandAsync("help");
        var (emptyStatus, empty) = await _host.CommandAsync("status");
        var (typoStatus, typo) = await _host.CommandAsync("connect mydb --replcia");
        var (unknownStatus, unknown) = await _host.CommandAsync("frobnicate mydb");
        var (nodbStatus, nodb) = await _host.CommandAsync("connect nosuchdb");

        Assert.All(new[] { helpStatus, emptyStatus, typoStatus, unknownStatus, nodbStatus }, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(new[] { help, empty, typo, unknown, nodb }, r => Assert.Equal("ephemeral", r?["response_type"]?.GetValue<string>()));
        Assert.Contains("connect <db>", Text(help), StringComparison.Ordinal);
        Assert.Contains("No onboardings yet", Text(empty), StringComparison.Ordinal);
        Assert.Contains("--replcia", Text(typo), StringComparison.Ordinal);
        Assert.Contains("frobnicate", Text(unknown), StringComparison.Ordinal);
        Assert.Contains("nosuchdb", Text(nodb), StringComparison.Ordinal);
        Assert.Empty(await _host.OnboardingsAsync());
        Assert.Empty(_host.Slack.Calls);

        var id = await ConnectAsync();
        var (_, list) = await _host.CommandAsync("status");
        var (_, checklist) = await _host.CommandAsync("status " + id);

        Assert.Contains(id, Text(list), StringComparison.Ordinal);
        Assert.Equal("ephemeral", checklist?["response_type"]?.GetValue<string>());
        Assert.StartsWith($"Onboarding {id} of mydb:", Text(checklist), StringComparison.Ordinal);
        Assert.Contains(StepNames.RegisterSource, Text(checklist), StringComparison.Ordinal);
    }

    private static string ApproveClickBody(FakeSlackMessage prompt)
    {
        var actions = prompt.Blocks!.OfType<JsonObject>().Single(b => b["type"]?.GetValue<string>() == "actions");
        var approve = actions["elements"]!.AsArray().OfType<JsonObject>().Single(e => e["text"]?["text"]?.GetValue<string>() == "Approve");
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = SlackBotHost.ApproverId },
            ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = prompt.Ts, ["channel_id"] = prompt.Channel, ["thread_ts"] = prompt.ThreadTs },
            ["actions"] = new JsonArray(new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = approve["action_id"]!.DeepClone(),
                ["block_id"] = actions["block_id"]!.DeepClone(),
                ["value"] = approve["value"]!.DeepClone(),
            }),
        };
        return "payload=" + WebUtility.UrlEncode(payload.ToJsonString());
    }

    private static HttpRequestMessage Unsigned(string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8) };
        request.Content.Headers.ContentType = new("application/x-www-form-urlencoded");
        return request;
    }

    /// <summary>Signed for <paramref name="body"/>, but one byte of what is sent differs.</summary>
    private static HttpRequestMessage Tampered(string path, string body)
    {
        var request = SlackSigner.SignedForm(path, SlackBotHost.SigningSecret, body);
        var bytes = Encoding.UTF8.GetBytes(body);
        bytes[^1] ^= 0x01;
        request.Content = new ByteArrayContent(bytes);
        request.Content.Headers.ContentType = new("application/x-www-form-urlencoded");
        return request;
    }
}
