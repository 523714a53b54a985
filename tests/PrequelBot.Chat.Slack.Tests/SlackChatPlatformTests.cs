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
}
