using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Workflows.Domain;
using PrequelBot.Testing;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Teams.Tests;

public sealed class TeamsChatPlatformTests : IAsyncLifetime
{
    private BotHost _bot = null!;
    private IChatPlatform _teams = null!;
    private ConversationRef _conversation = null!;

    public async Task InitializeAsync()
    {
        _bot = await BotHost.StartAsync();
        _teams = _bot.App.Services.GetServices<IChatPlatform>().Single(p => p.Platform == ChatPlatforms.Teams);
        var adapterData = new JsonObject { ["serviceUrl"] = _bot.Connector.ServiceUrl, ["botId"] = BotHost.BotId, ["channelId"] = "msteams" };
        _conversation = new ConversationRef(ChatPlatforms.Teams, BotHost.ConversationId, adapterData.ToJsonString());
    }

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    private const string EscapedConversation = "19%3Aabc%40thread.tacv2%3Bmessageid%3D1700000000000";

    [Fact]
    public async Task A_post_cannot_be_looked_up_and_a_replacement_prompt_says_it_replaces_the_earlier_one_with_the_same_approval()
    {
        var card = await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.AwaitingApproval), TestPosts.Card, CancellationToken.None);
        var earlier = await _teams.PostPromptAsync(_conversation, card, CardViews.Prompt(), TestPosts.Prompt, CancellationToken.None);

        var lookup = await _teams.FindPostedAsync(_conversation, card, TestPosts.Prompt, CancellationToken.None);
        var replacement = await _teams.PostPromptAsync(_conversation, card, CardViews.Prompt() with { ReplacesEarlier = true }, TestPosts.Prompt, CancellationToken.None);

        Assert.Equal(ChatLookupOutcome.Unknown, lookup.Outcome);
        Assert.Equal(3, _bot.Connector.Calls.Count); // card, earlier, replacement: the look-up made no call
        var replacementJson = _bot.Connector.Activities[replacement.MessageId].ToJsonString();
        Assert.Contains("replaces an earlier one", replacementJson, StringComparison.Ordinal);
        Assert.DoesNotContain("replaces an earlier one", _bot.Connector.Activities[earlier.MessageId].ToJsonString(), StringComparison.Ordinal);
        // Both copies submit the same approval id: a click on either decides the one approval.
        static string? ApprovalOf(JsonObject activity) => activity["attachments"]![0]!["content"]!["actions"]![0]!["data"]!["approvalId"]!.GetValue<string>();
        Assert.Equal(ApprovalOf(_bot.Connector.Activities[earlier.MessageId]), ApprovalOf(_bot.Connector.Activities[replacement.MessageId]));
    }

    [Fact]
    public async Task A_notice_is_a_new_activity_in_the_conversation_as_an_adaptive_card_with_one_text_block_per_line()
    {
        var notice = new PrequelBot.Workflows.Chat.ChatNoticeView("Drift on mydb (connected by ob-test1):\ndrift: 34.66.12.34 cannot reach TCP 5432");
        var post = new ChatPost("ob-test1", "notice:drift:1", 3, DateTimeOffset.UtcNow);

        var posted = await _teams.PostNoticeAsync(_conversation, notice, post, CancellationToken.None);

        var call = Assert.Single(_bot.Connector.Calls);
        Assert.Equal(("POST", $"/connector/v3/conversations/{EscapedConversation}/activities"), (call.Method, call.RawTarget));
        var activity = _bot.Connector.Activities[posted.MessageId];
        Assert.Equal("message", activity["type"]!.GetValue<string>());
        var card = activity["attachments"]![0]!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", card["contentType"]!.GetValue<string>());
        var texts = card["content"]!["body"]!.AsArray().Select(b => b!["text"]!.GetValue<string>()).ToList();
        Assert.Equal(["Drift on mydb (connected by ob-test1):", "drift: 34.66.12.34 cannot reach TCP 5432"], texts);
        Assert.Equal(notice.Text, card["content"]!["fallbackText"]!.GetValue<string>());
        Assert.Equal(ChatLookupOutcome.Unknown, (await _teams.FindPostedAsync(_conversation, null, post, CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Card_is_posted_updated_in_place_and_prompted_in_reply()
    {
        var card = await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.AwaitingApproval), TestPosts.Card, CancellationToken.None);
        await _teams.UpdateCardAsync(card, CardViews.Onboarding(OnboardingStates.Running), CancellationToken.None);
        var prompt = await _teams.PostPromptAsync(_conversation, card, CardViews.Prompt(), TestPosts.Prompt, CancellationToken.None);
        await _teams.UpdatePromptAsync(prompt, CardViews.Prompt(ApprovalStates.Approved), CancellationToken.None);

        var calls = _bot.Connector.Calls;
        Assert.Equal(["POST", "PUT", "POST", "PUT"], calls.Select(c => c.Method));
        Assert.Equal($"/connector/v3/conversations/{EscapedConversation}/activities", calls[0].RawTarget);
        Assert.Equal($"/connector/v3/conversations/{EscapedConversation}/activities/{card.MessageId}", calls[1].RawTarget);
        Assert.Equal($"/connector/v3/conversations/{EscapedConversation}/activities/{card.MessageId}", calls[2].RawTarget);
        Assert.Equal($"/connector/v3/conversations/{EscapedConversation}/activities/{prompt.MessageId}", calls[3].RawTarget);
        Assert.NotEqual(card.MessageId, prompt.MessageId);
        Assert.Contains("running", _bot.Connector.Activities[card.MessageId].ToJsonString(), StringComparison.Ordinal);
        Assert.Contains(_bot.Connector.ServiceUrl, card.AdapterData, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pending_prompt_has_approve_and_reject_submit_actions_carrying_the_approval_id()
    {
        var card = await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.AwaitingApproval), TestPosts.Card, CancellationToken.None);

        var prompt = await _teams.PostPromptAsync(_conversation, card, CardViews.Prompt(), TestPosts.Prompt, CancellationToken.None);

        var content = _bot.Connector.Activities[prompt.MessageId]["attachments"]![0]!["content"]!;
        var actions = content["actions"]!.AsArray();
        Assert.Equal(["Approve", "Reject"], actions.Select(a => (string?)a!["title"]));
        Assert.All(actions, a => Assert.Equal("Action.Submit", (string?)a!["type"]));
        Assert.Equal("prequel_approve", (string?)actions[0]!["data"]!["action"]);
        Assert.Equal("ap-123", (string?)actions[1]!["data"]!["approvalId"]);
        Assert.Contains("add inbound TCP 5432 from 35.192.85.117/32 to sg-0abc", content.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decided_prompt_loses_its_buttons_and_says_who_decided_and_when()
    {
        var card = await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.AwaitingApproval), TestPosts.Card, CancellationToken.None);
        var prompt = await _teams.PostPromptAsync(_conversation, card, CardViews.Prompt(), TestPosts.Prompt, CancellationToken.None);

        await _teams.UpdatePromptAsync(prompt, CardViews.Prompt(ApprovalStates.Approved), CancellationToken.None);

        var content = _bot.Connector.Activities[prompt.MessageId]["attachments"]![0]!["content"]!;
        Assert.Empty(content["actions"]!.AsArray());
        Assert.Contains("Approved by Alex Wilber at 2026-01-02 03:04:05 UTC", content.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_is_fetched_once_for_several_sends()
    {
        for (var i = 0; i < 3; i++)
            await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        Assert.Equal(3, _bot.Connector.Delivered.Count);
        Assert.Equal(1, _bot.Authority.TokenRequests);
        Assert.Equal(0, _bot.Authority.BadTokenRequests);
    }

    [Fact]
    public async Task Concurrent_sends_share_one_token_request()
    {
        var sends = Enumerable.Range(0, 6).Select(_ =>
            _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        await Task.WhenAll(sends);

        Assert.Equal(6, _bot.Connector.Delivered.Count);
        Assert.Equal(1, _bot.Authority.TokenRequests);
    }

    [Fact]
    public async Task Bursts_to_one_conversation_are_paced_under_the_teams_limit()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (var i = 0; i < 9; i++)
            await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        // 8 per 2 s: the ninth send waits for a slot in the window (sliding, 4 segments of 0.5 s).
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"nine sends took only {clock.Elapsed}");
        Assert.Equal(9, _bot.Connector.Delivered.Count);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(412)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task Transient_failure_is_retried(int status)
    {
        _bot.Connector.Fail(status, times: 1, retryAfter: status == 429 ? TimeSpan.Zero : null);

        var card = await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        Assert.Equal(2, _bot.Connector.Calls.Count);
        Assert.True(_bot.Connector.Activities.ContainsKey(card.MessageId));
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(413)]
    public async Task Permanent_failure_is_not_retried(int status)
    {
        _bot.Connector.Fail(status);

        var error = await Assert.ThrowsAsync<TeamsConnectorException>(() =>
            _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        Assert.Equal(status, (int)error.Status);
        Assert.Single(_bot.Connector.Calls);
    }

    [Fact]
    public async Task Throttling_that_outlasts_the_retries_asks_the_outbox_to_come_back_later()
    {
        _bot.Connector.Fail(429, times: 10, retryAfter: TimeSpan.Zero);

        var delayed = await Assert.ThrowsAsync<ChatDeliveryDelayedException>(() =>
            _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        Assert.Equal(4, _bot.Connector.Calls.Count);
        Assert.DoesNotContain("fake-outbound", delayed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Long_retry_after_is_left_to_the_outbox_without_waiting()
    {
        _bot.Connector.Fail(429, times: 1, retryAfter: TimeSpan.FromMinutes(2));

        var delayed = await Assert.ThrowsAsync<ChatDeliveryDelayedException>(() =>
            _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        Assert.Equal(TimeSpan.FromMinutes(2), delayed.RetryAfter);
        Assert.Single(_bot.Connector.Calls);
    }

    [Fact]
    public async Task Connector_401_refreshes_the_token_once_and_retries()
    {
        await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);
        _bot.Connector.Fail(401);

        await _teams.PostCardAsync(_conversation, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        Assert.Equal(2, _bot.Authority.TokenRequests);
        Assert.Equal(2, _bot.Connector.Delivered.Count);
    }

    [Fact]
    public async Task Conversation_without_a_service_url_is_refused_before_any_call()
    {
        var broken = _conversation with { AdapterData = "{\"tenantId\":\"t\"}" };

        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            _teams.PostCardAsync(broken, CardViews.Onboarding(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        Assert.Empty(_bot.Connector.Calls);
    }
}
