using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Testing;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Slack.Tests;

public sealed class SlackChatPlatformTests : IAsyncLifetime, IDisposable
{
    private readonly FakeSlackApi _slack = new("xoxb-test-0123456789-SECRETTOKEN");
    private readonly CapturingLoggerProvider _logs = new();
    private ServiceProvider _services = null!;

    private static readonly ConversationRef Channel = new("slack", "C0123456789", """{"team_id":"T1DC2JH3J"}""");

    private static OnboardingCardView Card(string state) => new()
    {
        OnboardingId = "ob-7k2m9q",
        Database = "orders-db",
        Requester = new ChatUser("slack", "U2CERLKJA", "roadrunner"),
        State = state,
        Steps = [new StepView(StepNames.Discover, StepStates.Completed, null), new StepView(StepNames.SecurityGroup, StepStates.AwaitingApproval, null)],
    };

    private static ApprovalPromptView Prompt(string state) => new()
    {
        ApprovalId = "ob-7k2m9q:security-group",
        OnboardingId = "ob-7k2m9q",
        Database = "orders-db",
        Step = StepNames.SecurityGroup,
        Changes = ["add inbound TCP 5432 from 35.192.85.117/32 to sg-0abc"],
        State = state,
        DecidedBy = state == ApprovalStates.Approved ? new ChatUser("slack", "U0APPROVER") : null,
        DecidedAt = state == ApprovalStates.Approved ? DateTimeOffset.UtcNow : null,
        ExpiresAt = DateTimeOffset.UtcNow.AddDays(1),
    };

    public async Task InitializeAsync()
    {
        await _slack.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Slack:SigningSecret"] = "signing-secret",
            ["Slack:BotToken"] = _slack.BotToken,
            ["Slack:ApiBaseUrl"] = _slack.BaseUrl.TrimEnd('/'),
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        services.AddSlackChat();
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _slack.DisposeAsync();
    }

    public void Dispose() => _logs.Dispose();

    private IChatPlatform Platform => _services.GetServices<IChatPlatform>().Single(p => p.Platform == "slack");

    [Fact]
    public async Task Card_is_posted_then_updated_in_place_and_the_prompt_goes_into_its_thread()
    {
        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);
        await Platform.UpdateCardAsync(card, Card(OnboardingStates.AwaitingApproval), CancellationToken.None);
        var prompt = await Platform.PostPromptAsync(Channel, card, Prompt(ApprovalStates.Pending), TestPosts.Prompt, CancellationToken.None);
        await Platform.UpdatePromptAsync(prompt, Prompt(ApprovalStates.Approved), CancellationToken.None);

        Assert.Equal(new ChatMessageRef("slack", "C0123456789", card.MessageId), card);
        Assert.Equal(card.MessageId, _slack.Messages[prompt.MessageId].ThreadTs);
        Assert.Contains("awaiting-approval", _slack.Messages[card.MessageId].Text, StringComparison.Ordinal);
        Assert.Contains("Approved by", _slack.Messages[prompt.MessageId].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("\"actions\"", _slack.Messages[prompt.MessageId].Blocks!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(["chat.postMessage", "chat.update", "chat.postMessage", "chat.update"], _slack.Calls.Select(c => c.Method));
        Assert.All(_slack.Calls, c => Assert.Equal("Bearer " + _slack.BotToken, c.Authorization));
        Assert.All(_slack.Calls, c => Assert.Equal("application/json; charset=utf-8", c.ContentType));
    }

    [Fact]
    public async Task A_notice_is_a_top_level_channel_message_with_notice_metadata_and_is_found_again_by_its_key()
    {
        var post = new ChatPost("ob-test1", "notice:drift:1", 3, DateTimeOffset.UtcNow);
        var notice = new ChatNoticeView("Drift on orders-db (connected by ob-test1):\ndrift: 34.66.12.34 cannot reach TCP 5432\nRun `check orders-db` for every line.");
        await Platform.PostCardAsync(Channel, Card(OnboardingStates.Completed), TestPosts.Card, CancellationToken.None);

        var posted = await Platform.PostNoticeAsync(Channel, notice, post, CancellationToken.None);
        var found = await Platform.FindPostedAsync(Channel, null, post, CancellationToken.None);

        var message = _slack.Messages[posted.MessageId];
        Assert.Equal(("C0123456789", (string?)null), (message.Channel, message.ThreadTs));
        Assert.Equal(notice.Text, message.Text);
        Assert.Equal(SlackChatPlatform.NoticeEventType, message.Metadata!["event_type"]!.GetValue<string>());
        Assert.Equal("notice:drift:1", message.Metadata["event_payload"]!["message_key"]!.GetValue<string>());
        Assert.Equal("• drift: 34.66.12.34 cannot reach TCP 5432\n• Run `check orders-db` for every line.", message.Blocks![1]!["text"]!["text"]!.GetValue<string>());
        Assert.Equal(ChatLookup.Found(posted), found);
        // The card in the same channel is not mistaken for the notice, nor the notice for the card.
        Assert.NotEqual(posted.MessageId, (await Platform.FindPostedAsync(Channel, null, TestPosts.Card, CancellationToken.None)).Message!.MessageId);
    }

    [Fact]
    public async Task Rate_limit_throws_ChatDeliveryDelayedException_with_slacks_retry_after()
    {
        _slack.RateLimitNext(1, retryAfterSeconds: 7);

        var error = await Assert.ThrowsAsync<ChatDeliveryDelayedException>(
            () => Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
        Assert.Single(_slack.Calls);
        Assert.Empty(_slack.Messages);
    }

    [Fact]
    public async Task After_the_rate_limit_passes_the_next_delivery_succeeds()
    {
        _slack.RateLimitNext(1, retryAfterSeconds: 1);
        await Assert.ThrowsAsync<ChatDeliveryDelayedException>(() => Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        Assert.Single(_slack.Messages);
        Assert.True(_slack.Messages.ContainsKey(card.MessageId));
    }

    [Fact]
    public async Task Ratelimited_error_in_an_ok_false_answer_is_treated_as_a_rate_limit()
    {
        _slack.FailNext("ratelimited");

        var error = await Assert.ThrowsAsync<ChatDeliveryDelayedException>(
            () => Platform.UpdatePromptAsync(new ChatMessageRef("slack", "C0123456789", "1.000000"), Prompt(ApprovalStates.Approved), CancellationToken.None));

        Assert.Equal(SlackWebApiClient.DefaultRetryAfter, error.RetryAfter);
        Assert.Single(_slack.Calls);
    }

    [Fact]
    public async Task Transient_internal_error_is_retried_and_then_succeeds()
    {
        _slack.FailNext("internal_error");

        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        Assert.Equal(2, _slack.CallsTo("chat.postMessage").Count());
        Assert.True(_slack.Messages.ContainsKey(card.MessageId));
    }

    [Fact]
    public async Task Permanent_error_is_not_retried_and_names_the_method_and_code()
    {
        _slack.FailNext("not_in_channel");

        var error = await Assert.ThrowsAsync<SlackApiException>(
            () => Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        Assert.Equal("chat.postMessage", error.Method);
        Assert.Equal("not_in_channel", error.Error);
        Assert.Single(_slack.Calls);
    }

    [Fact]
    public async Task Updating_an_unknown_message_fails_with_message_not_found()
    {
        var error = await Assert.ThrowsAsync<SlackApiException>(() =>
            Platform.UpdateCardAsync(new ChatMessageRef("slack", "C0123456789", "1.000000"), Card(OnboardingStates.Running), CancellationToken.None));

        Assert.Equal("message_not_found", error.Error);
    }

    [Fact]
    public async Task Bot_token_never_appears_in_logs_or_exceptions()
    {
        _slack.FailNext("invalid_auth");
        var error = await Assert.ThrowsAsync<SlackApiException>(() => Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));
        _slack.RateLimitNext(1, 3);
        await Assert.ThrowsAsync<ChatDeliveryDelayedException>(() => Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));
        await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        Assert.NotEmpty(_logs.Lines);
        Assert.Contains(_logs.Lines, l => l.Contains("invalid_auth", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Lines, l => l.Contains("SECRETTOKEN", StringComparison.Ordinal));
        Assert.DoesNotContain("SECRETTOKEN", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_card_and_prompt_is_posted_with_message_metadata_naming_the_onboarding_the_key_and_the_sequence()
    {
        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);
        var prompt = await Platform.PostPromptAsync(Channel, card, Prompt(ApprovalStates.Pending), TestPosts.Prompt, CancellationToken.None);

        var cardMetadata = _slack.Messages[card.MessageId].Metadata!;
        Assert.Equal("prequelbot_card", cardMetadata["event_type"]!.GetValue<string>());
        Assert.Equal((TestPosts.Card.OnboardingId, "card", 1L),
            (cardMetadata["event_payload"]!["onboarding_id"]!.GetValue<string>(), cardMetadata["event_payload"]!["message_key"]!.GetValue<string>(),
             cardMetadata["event_payload"]!["outbox_sequence"]!.GetValue<long>()));
        var promptMetadata = _slack.Messages[prompt.MessageId].Metadata!;
        Assert.Equal("prequelbot_prompt", promptMetadata["event_type"]!.GetValue<string>());
        Assert.Equal(TestPosts.Prompt.Key, promptMetadata["event_payload"]!["message_key"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_card_posted_before_is_found_in_the_channel_history_with_all_metadata()
    {
        await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card with { OnboardingId = "ob-other1" }, CancellationToken.None);
        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);

        var lookup = await Platform.FindPostedAsync(Channel, null, TestPosts.Card, CancellationToken.None);

        Assert.Equal(ChatLookupOutcome.Found, lookup.Outcome);
        Assert.Equal(card, lookup.Message);
        var history = Assert.Single(_slack.CallsTo("conversations.history"));
        Assert.StartsWith("application/x-www-form-urlencoded", history.ContentType, StringComparison.Ordinal);
        Assert.Equal(("C0123456789", "true", "true"),
            (history.Body["channel"]!.GetValue<string>(), history.Body["include_all_metadata"]!.GetValue<string>(), history.Body["inclusive"]!.GetValue<string>()));
        Assert.Equal("Bearer " + _slack.BotToken, history.Authorization);
    }

    [Fact]
    public async Task A_prompt_posted_before_is_found_in_the_cards_thread_and_one_never_posted_is_not()
    {
        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);
        var prompt = await Platform.PostPromptAsync(Channel, card, Prompt(ApprovalStates.Pending), TestPosts.Prompt, CancellationToken.None);

        var found = await Platform.FindPostedAsync(Channel, card, TestPosts.Prompt, CancellationToken.None);
        var missing = await Platform.FindPostedAsync(Channel, card, TestPosts.Prompt with { Key = "prompt:ap-never" }, CancellationToken.None);

        Assert.Equal(ChatLookup.Found(prompt), found);
        Assert.Equal(ChatLookupOutcome.NotFound, missing.Outcome);
        Assert.All(_slack.CallsTo("conversations.replies"), c => Assert.Equal(card.MessageId, c.Body["ts"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_history_page_after_page_is_read_until_the_card_is_found()
    {
        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);
        for (var i = 0; i < SlackChatPlatform.LookupPageSize + 5; i++)
            await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card with { OnboardingId = $"ob-other{i}" }, CancellationToken.None);

        var lookup = await Platform.FindPostedAsync(Channel, null, TestPosts.Card, CancellationToken.None);

        Assert.Equal(ChatLookup.Found(card), lookup);
        Assert.Equal(2, _slack.CallsTo("conversations.history").Count());
    }

    [Fact]
    public async Task A_missing_history_scope_makes_the_lookup_unknown_and_a_rate_limit_delays_it()
    {
        var card = await Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None);
        _slack.FailNext("missing_scope");
        var unknown = await Platform.FindPostedAsync(Channel, card, TestPosts.Prompt, CancellationToken.None);
        _slack.RateLimitNext(1, retryAfterSeconds: 4);
        var delayed = await Assert.ThrowsAsync<ChatDeliveryDelayedException>(() => Platform.FindPostedAsync(Channel, null, TestPosts.Card, CancellationToken.None));

        Assert.Equal(ChatLookupOutcome.Unknown, unknown.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(4), delayed.RetryAfter);
    }

    [Fact]
    public void A_replacement_prompt_says_it_replaces_the_earlier_one()
    {
        var blocks = SlackMessageRenderer.Prompt(Prompt(ApprovalStates.Pending) with { ReplacesEarlier = true }).Blocks.ToJsonString();

        Assert.Contains("replaces an earlier one", blocks, StringComparison.Ordinal);
        Assert.DoesNotContain("replaces an earlier one", SlackMessageRenderer.Prompt(Prompt(ApprovalStates.Pending)).Blocks.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_ok_false_answer_to_a_post_means_nothing_was_posted_but_an_HTTP_error_leaves_it_unknown()
    {
        _slack.FailNext("not_in_channel");
        var refused = await Assert.ThrowsAsync<SlackApiException>(() => Platform.PostCardAsync(Channel, Card(OnboardingStates.Running), TestPosts.Card, CancellationToken.None));

        Assert.True(Platform.PostedNothing(refused));
        Assert.True(Platform.PostedNothing(new ChatDeliveryDelayedException(TimeSpan.FromSeconds(1), "slow down")));
        Assert.False(Platform.PostedNothing(new SlackApiException("chat.postMessage", "http_502")));
        Assert.False(Platform.PostedNothing(new HttpRequestException("connection reset")));
        Assert.Empty(_slack.Messages);
    }
}
