using System.Net;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using PrequelBot.Chat.Teams.Tests.Fakes;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

/// <summary>
/// Teams end to end through the real host: only <c>POST /api/messages</c> with tokens from the fake Bot Framework
/// authority goes in; what comes out is what the fake Connector receives (cards, prompts, replies, in-place updates).
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed partial class TeamsHostTests : IAsyncLifetime
{
    /// <summary>The conversation id as it must appear in every Connector path: each id segment escaped.</summary>
    private const string EscapedConversationPath = "/connector/v3/conversations/19%3Aabc%40thread.tacv2%3Bmessageid%3D1700000000000/activities";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly string[] PromptButtons = ["Action.Submit Approve", "Action.Submit Reject"];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-teamshost-" + Guid.NewGuid().ToString("N"));
    private readonly string _database = TestEnvironment.UniqueName("teamshost");
    private readonly FakeInfrastructure _world = new();
    private Dictionary<string, string?> _settings = null!;
    private bool _usedPostgres;
    private FakeBotFrameworkAuthority _authority = null!;
    private FakeConnector _connector = null!;
    private TeamsBotHost _host = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _authority = await FakeBotFrameworkAuthority.StartAsync();
        _connector = await FakeConnector.StartAsync();
        _settings = BotHost.Sqlite(_directory);
        _host = StartHost();
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _connector.DisposeAsync();
        await _authority.DisposeAsync();
        if (_usedPostgres) await BotHost.DropPostgresAsync(_database);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private TeamsBotHost StartHost() => new(_settings, _world, _authority, _connector);

    /// <summary>Replaces the SQLite host with one on a fresh PostgreSQL database (bot state and Hangfire both there).</summary>
    private async Task UsePostgresAsync()
    {
        await _host.DisposeAsync();
        _usedPostgres = true;
        _settings = await BotHost.PostgresAsync(_database);
        _host = StartHost();
    }

    [Fact]
    public async Task Status_is_answered_200_and_replied_to_in_the_conversation()
    {
        var status = _host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> status");

        using var response = await _host.PostAsync(status, _host.ValidToken());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await ReplyToAsync(status);
        Assert.Equal("POST", reply.Method);
        Assert.Equal(EscapedConversationPath + "/" + status["id"], reply.RawTarget);
        Assert.Equal("Bearer " + FakeBotFrameworkAuthority.OutboundToken, reply.Authorization);
        Assert.Equal(TeamsBotHost.BotId, (string?)reply.Body["from"]?["id"]);
        Assert.Equal(TeamsBotHost.ConversationId, (string?)reply.Body["conversation"]?["id"]);
        Assert.Null(reply.Body["recipient"]);
        Assert.Null(reply.Body["serviceUrl"]);
        Assert.Contains("No active or recent onboardings.", Texts(reply.Body));
    }

    [Fact]
    public async Task Connect_posts_an_adaptive_card_asks_with_submit_buttons_and_completes_on_approver_clicks()
    {
        var connect = _host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb");

        using var response = await _host.PostAsync(connect, _host.ValidToken());
        var buttonsSeen = await ApproveEveryPromptUntilCompletedAsync(_host);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Texts((await ReplyToAsync(connect)).Body), t => t.StartsWith("Started onboarding ob-", StringComparison.Ordinal));

        var onboarding = Assert.Single(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
        var aggregate = (await _host.State.LoadAsync(onboarding.Id, CancellationToken.None))!;
        Assert.Equal(OnboardingState.Completed, aggregate.Onboarding.State);
        Assert.NotEmpty(aggregate.Approvals);
        Assert.All(aggregate.Approvals, a => Assert.Equal(ApprovalState.Approved, a.State));
        Assert.All(aggregate.Approvals, a => Assert.Equal(TeamsBotHost.Approver.AadObjectId, a.DecidedBy?.Id));
        foreach (var approval in aggregate.Approvals) Assert.Equal(1, _world.Applies[approval.Step]);

        // One card, posted once to the conversation and then only replaced in place.
        var (cardId, card) = Assert.Single(OnboardingCards());
        Assert.Single(_connector.Delivered, c => c.Method == "POST" && c.ActivityId is null && IsOnboardingCard(c.Body));
        Assert.Contains(_connector.Delivered, c => c.Method == "PUT" && c.ActivityId == cardId);
        AssertAdaptiveCard(card);
        Assert.Equal(OnboardingStates.Completed, Fact(card, "State"));
        Assert.Equal(onboarding.Id, Fact(card, "Id"));

        // Every prompt: a reply to the card with Action.Submit Approve/Reject, now decided, naming the approver, no buttons.
        var prompts = Prompts();
        Assert.Equal(aggregate.Approvals.Count, prompts.Count);
        Assert.Equal(prompts.Count, buttonsSeen.Count);
        Assert.All(buttonsSeen.Values, titles => Assert.Equal(PromptButtons, titles));
        foreach (var (promptId, prompt) in prompts)
        {
            Assert.Single(_connector.Delivered, c => c.Method == "POST" && c.ActivityId == cardId && IsPrompt(c.Body) && SameCard(c.Body, promptId));
            AssertAdaptiveCard(prompt);
            Assert.Empty(Content(prompt)["actions"]!.AsArray());
            Assert.Contains(Texts(prompt), t => t.StartsWith("Approved by " + TeamsBotHost.Approver.Name, StringComparison.Ordinal));
        }

        // Everything went to the original activity's serviceUrl, the escaped conversation, with the bot's token.
        Assert.All(_connector.Calls, c => Assert.StartsWith(EscapedConversationPath, c.RawTarget, StringComparison.Ordinal));
        Assert.All(_connector.Calls, c => Assert.True(c.Status < 300, $"{c.Method} {c.RawTarget} answered {c.Status}"));
        Assert.Equal(1, _authority.TokenRequests);
        Assert.Equal(0, _authority.BadTokenRequests);
        Assert.DoesNotContain(_connector.Calls, c => c.Body.ToJsonString().Contains(FakeBotFrameworkAuthority.AppPassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reject_click_ends_the_onboarding_and_the_prompt_names_who_rejected()
    {
        using (await _host.PostAsync(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), _host.ValidToken())) { }
        var (promptId, prompt) = await FirstPendingPromptAsync();

        var click = _host.Message(TeamsBotHost.Approver, value: SubmitData(prompt, "Reject"), replyToId: promptId);
        using var response = await _host.PostAsync(click, _host.ValidToken());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await BotHost.EventuallyAsync(() => Task.FromResult(OnboardingCards() is [var card] && Fact(card.Card, "State") == OnboardingStates.Rejected),
            "the card shows rejected", Patience);
        await BotHost.EventuallyAsync(() => Task.FromResult(Content(_connector.Activities[promptId])["actions"] is JsonArray { Count: 0 }),
            "the prompt loses its buttons", Patience);
        Assert.Contains(Texts(_connector.Activities[promptId]), t => t.StartsWith("Rejected by " + TeamsBotHost.Approver.Name, StringComparison.Ordinal));
        var onboarding = Assert.Single(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
        Assert.Equal(OnboardingState.Rejected, onboarding.State);
        Assert.Single(Prompts());
        Assert.Empty(_world.Effects);
    }

    [Fact]
    public async Task A_second_click_on_a_decided_prompt_changes_nothing()
    {
        using (await _host.PostAsync(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), _host.ValidToken())) { }
        var (promptId, prompt) = await FirstPendingPromptAsync();
        var approve = SubmitData(prompt, "Approve");
        var reject = SubmitData(prompt, "Reject");
        using (await _host.PostAsync(_host.Message(TeamsBotHost.Approver, value: approve, replyToId: promptId), _host.ValidToken())) { }
        await BotHost.EventuallyAsync(() => Task.FromResult(Content(_connector.Activities[promptId])["actions"] is JsonArray { Count: 0 }),
            "the first click is recorded", Patience);

        var late = _host.Message(TeamsBotHost.Approver, value: reject, replyToId: promptId);
        using var response = await _host.PostAsync(late, _host.ValidToken());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Texts((await ReplyToAsync(late)).Body), t => t.StartsWith("Nothing changed", StringComparison.Ordinal));
        var onboardingId = Assert.Single(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None)).Id;
        var aggregate = (await _host.State.LoadAsync(onboardingId, CancellationToken.None))!;
        Assert.NotEqual(OnboardingState.Rejected, aggregate.Onboarding.State);
        Assert.Equal(ApprovalState.Approved, aggregate.Approvals.Single(a => a.Id == (string?)approve["approvalId"]).State);
        Assert.Contains(Texts(_connector.Activities[promptId]), t => t.StartsWith("Approved by ", StringComparison.Ordinal));
    }

    public enum Clicker { Stranger, RequesterWithoutSelfApproval }

    [Theory]
    [InlineData(Clicker.Stranger)]
    [InlineData(Clicker.RequesterWithoutSelfApproval)]
    public async Task A_click_by_someone_not_allowed_is_answered_not_allowed_and_changes_nothing(Clicker who)
    {
        var clicker = who == Clicker.Stranger ? TeamsBotHost.Stranger : TeamsBotHost.Requester;
        using (await _host.PostAsync(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), _host.ValidToken())) { }
        var (promptId, prompt) = await FirstPendingPromptAsync();
        var onboardingId = Assert.Single(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None)).Id;

        var click = _host.Message(clicker, value: SubmitData(prompt, "Approve"), replyToId: promptId);
        using var response = await _host.PostAsync(click, _host.ValidToken());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await ReplyToAsync(click);
        Assert.Contains(Texts(reply.Body), t => t.Contains("not allowed", StringComparison.OrdinalIgnoreCase));
        var after = (await _host.State.LoadAsync(onboardingId, CancellationToken.None))!;
        Assert.Equal(OnboardingState.AwaitingApproval, after.Onboarding.State);
        Assert.All(after.Approvals, a => Assert.Equal(ApprovalState.Pending, a.State));
        Assert.All(after.Approvals, a => Assert.Null(a.DecidedBy));
        var audit = await _host.State.GetAuditAsync(onboardingId, CancellationToken.None);
        Assert.Contains(audit, e => e.Action == "decision-refused" && e.Actor.Contains(clicker.AadObjectId, StringComparison.Ordinal));
        Assert.DoesNotContain(audit, e => e.Action is "approved" or "rejected");
        Assert.Equal(2, Content(_connector.Activities[promptId])["actions"]!.AsArray().Count);
        Assert.DoesNotContain(after.Approvals, a => _world.Applies.ContainsKey(a.Step));
    }

    public enum BadToken { None, WrongAudience, WrongIssuer, Expired, NotYetValid, KeyNotEndorsedForTeams, KeyWithoutEndorsements, ServiceUrlMismatch, TamperedSignature, Hs256 }

    [Theory]
    [InlineData(BadToken.None, HttpStatusCode.Unauthorized)]
    [InlineData(BadToken.WrongAudience, HttpStatusCode.Unauthorized)]
    [InlineData(BadToken.WrongIssuer, HttpStatusCode.Unauthorized)]
    [InlineData(BadToken.Expired, HttpStatusCode.Unauthorized)]
    [InlineData(BadToken.NotYetValid, HttpStatusCode.Unauthorized)]
    [InlineData(BadToken.KeyNotEndorsedForTeams, HttpStatusCode.Forbidden)]
    [InlineData(BadToken.KeyWithoutEndorsements, HttpStatusCode.Forbidden)]
    [InlineData(BadToken.ServiceUrlMismatch, HttpStatusCode.Unauthorized)]
    [InlineData(BadToken.TamperedSignature, HttpStatusCode.Unauthorized)]
    [InlineData(BadToken.Hs256, HttpStatusCode.Unauthorized)]
    public async Task Connect_with_a_bad_token_is_refused_and_starts_nothing(BadToken kind, HttpStatusCode expected)
    {
        var connect = _host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb");

        using var response = await _host.PostAsync(connect, Mint(kind));

        Assert.Equal(expected, response.StatusCode);
        await AssertNothingHappenedAsync();
    }

    [Theory]
    [InlineData("{\"type\":\"message\",\"text\":\"connect mydb\"")]
    [InlineData("not json at all")]
    [InlineData("{\"text\":\"connect mydb\"}")]
    public async Task Malformed_json_with_a_valid_token_is_a_400_and_starts_nothing(string body)
    {
        using var response = await _host.PostRawAsync(body, _host.ValidToken());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await AssertNothingHappenedAsync();
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public async Task After_a_restart_the_stored_conversation_reference_still_reaches_the_same_conversation(string provider)
    {
        if (provider == "Postgres") await UsePostgresAsync();
        using (await _host.PostAsync(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), _host.ValidToken())) { }
        var (firstPromptId, _) = await FirstPendingPromptAsync();
        var (cardId, _) = Assert.Single(OnboardingCards());
        await _host.DisposeAsync();
        var callsBeforeRestart = _connector.Calls.Count;

        _host = StartHost();
        await ApproveEveryPromptUntilCompletedAsync(_host);

        var afterRestart = _connector.Calls.Skip(callsBeforeRestart).ToList();
        Assert.Contains(afterRestart, c => c.Method == "PUT" && c.ActivityId == firstPromptId);
        Assert.Contains(afterRestart, c => c.Method == "PUT" && c.ActivityId == cardId);
        Assert.All(afterRestart, c => Assert.StartsWith(EscapedConversationPath, c.RawTarget, StringComparison.Ordinal));
        Assert.All(afterRestart, c => Assert.True(c.Status < 300, $"{c.Method} {c.RawTarget} answered {c.Status}"));
        Assert.Equal(OnboardingStates.Completed, Fact(OnboardingCards().Single().Card, "State"));
        Assert.Single(_connector.Calls, c => c.Method == "POST" && c.ActivityId is null && IsOnboardingCard(c.Body));
        Assert.All(Prompts(), p => Assert.Single(_connector.Calls, c => c.Method == "POST" && IsPrompt(c.Body) && FirstText(c.Body) == FirstText(p.Prompt)));
    }

    // ---- driving the bot ----

    /// <summary>
    /// Clicks Approve (as the approver, through <c>POST /api/messages</c>) on every prompt that shows buttons, with the
    /// <c>data</c> of the Action.Submit the bot posted, until the card says completed. Returns the buttons each prompt had.
    /// </summary>
    private async Task<Dictionary<string, List<string>>> ApproveEveryPromptUntilCompletedAsync(TeamsBotHost host)
    {
        var buttons = new Dictionary<string, List<string>>();
        await BotHost.EventuallyAsync(async () =>
        {
            foreach (var (promptId, prompt) in Prompts())
            {
                if (buttons.ContainsKey(promptId) || Content(prompt)["actions"] is not JsonArray { Count: > 0 } actions) continue;
                buttons[promptId] = [.. actions.Select(a => $"{a?["type"]} {a?["title"]}")];
                using var click = await host.PostAsync(host.Message(TeamsBotHost.Approver, value: SubmitData(prompt, "Approve"), replyToId: promptId), host.ValidToken());
                Assert.Equal(HttpStatusCode.OK, click.StatusCode);
            }
            return OnboardingCards() is [var card] && Fact(card.Card, "State") == OnboardingStates.Completed;
        }, "the onboarding card shows completed", Patience);
        return buttons;
    }

    private async Task<(string Id, JsonObject Prompt)> FirstPendingPromptAsync()
    {
        await BotHost.EventuallyAsync(() => Task.FromResult(Prompts().Count > 0), "a prompt is posted", Patience);
        return Prompts().First();
    }

    /// <summary>The connector's reply to <paramref name="activity"/> (POST …/activities/{its id}).</summary>
    private async Task<ConnectorCall> ReplyToAsync(JsonObject activity)
    {
        var id = (string)activity["id"]!;
        await BotHost.EventuallyAsync(() => Task.FromResult(_connector.Delivered.Any(c => c.Method == "POST" && c.ActivityId == id)),
            $"the bot replies to activity {id}", Patience);
        return _connector.Delivered.Single(c => c.Method == "POST" && c.ActivityId == id);
    }

    /// <summary>
    /// After a refused request: a valid <c>status</c> is answered (so the bot is live and its queue moved on), that answer is
    /// the only thing the connector ever received, it lists no onboarding, the state store holds none and no step ran.
    /// </summary>
    private async Task AssertNothingHappenedAsync()
    {
        var status = _host.Message(TeamsBotHost.Requester, "status");
        using (var response = await _host.PostAsync(status, _host.ValidToken())) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await ReplyToAsync(status);

        Assert.Same(reply, Assert.Single(_connector.Calls));
        Assert.Contains("No active or recent onboardings.", Texts(reply.Body));
        Assert.Empty(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
        Assert.Empty(_world.Applies);
    }

    private string? Mint(BadToken kind)
    {
        var serviceUrl = _connector.ServiceUrl;
        return kind switch
        {
            BadToken.None => null,
            BadToken.WrongAudience => _authority.MintToken(serviceUrl, audience: "99999999-2222-3333-4444-555555555555"),
            BadToken.WrongIssuer => _authority.MintToken(serviceUrl, issuer: "https://evil.example.com"),
            BadToken.Expired => _authority.MintToken(serviceUrl, notBefore: DateTime.UtcNow.AddMinutes(-30), expires: DateTime.UtcNow.AddMinutes(-6)),
            BadToken.NotYetValid => _authority.MintToken(serviceUrl, notBefore: DateTime.UtcNow.AddMinutes(10), expires: DateTime.UtcNow.AddMinutes(40)),
            BadToken.KeyNotEndorsedForTeams => _authority.MintToken(serviceUrl, kid: FakeBotFrameworkAuthority.WebchatKey),
            BadToken.KeyWithoutEndorsements => _authority.MintToken(serviceUrl, kid: FakeBotFrameworkAuthority.UnendorsedKey),
            BadToken.ServiceUrlMismatch => _authority.MintToken("https://smba.trafficmanager.net/amer/"),
            BadToken.TamperedSignature => TamperSignature(_authority.MintToken(serviceUrl)),
            BadToken.Hs256 => FakeBotFrameworkAuthority.MintHs256Token(serviceUrl),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>Flips one byte of the signature, keeping header and payload.</summary>
    private static string TamperSignature(string jwt)
    {
        var parts = jwt.Split('.');
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
        signature[signature.Length / 2] ^= 0x5A;
        parts[2] = Base64UrlEncoder.Encode(signature);
        return string.Join('.', parts);
    }

    // ---- reading what Teams received ----

    private List<(string Id, JsonObject Card)> OnboardingCards() =>
        [.. _connector.Activities.Where(a => IsOnboardingCard(a.Value)).Select(a => (a.Key, a.Value))];

    private List<(string Id, JsonObject Prompt)> Prompts() =>
        [.. _connector.Activities.Where(a => IsPrompt(a.Value)).OrderBy(a => long.Parse(a.Key, System.Globalization.CultureInfo.InvariantCulture)).Select(a => (a.Key, a.Value))];

    private bool SameCard(JsonObject posted, string activityId) =>
        FirstText(posted) == FirstText(_connector.Activities[activityId]);

    private static bool IsOnboardingCard(JsonObject activity) => FirstText(activity)?.StartsWith("Onboarding ob-", StringComparison.Ordinal) == true;

    private static bool IsPrompt(JsonObject activity) => FirstText(activity)?.StartsWith("Approval needed for ", StringComparison.Ordinal) == true;

    private static string? FirstText(JsonObject activity) =>
        activity["attachments"]?[0]?["content"]?["body"]?[0]?["text"]?.GetValue<string>();

    private static JsonObject Content(JsonObject activity) => activity["attachments"]![0]!["content"]!.AsObject();

    /// <summary>The <c>data</c> of the Action.Submit titled <paramref name="title"/>, which Teams sends back as <c>value</c>.</summary>
    private static JsonNode SubmitData(JsonObject prompt, string title) =>
        Content(prompt)["actions"]!.AsArray().Single(a => (string?)a?["type"] == "Action.Submit" && (string?)a?["title"] == title)!["data"]!;

    private static void AssertAdaptiveCard(JsonObject activity)
    {
        var attachment = Assert.Single(activity["attachments"]!.AsArray())!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", (string?)attachment["contentType"]);
        Assert.Equal("AdaptiveCard", (string?)attachment["content"]?["type"]);
        var version = Version.Parse((string)attachment["content"]!["version"]!);
        Assert.True(version <= new Version(1, 5), $"Adaptive Card version {version} is above 1.5");
    }

    private static string? Fact(JsonObject activity, string title) =>
        Content(activity)["body"]!.AsArray()
            .Where(b => (string?)b?["type"] == "FactSet")
            .SelectMany(b => b!["facts"]!.AsArray())
            .FirstOrDefault(f => (string?)f?["title"] == title)?["value"]?.GetValue<string>();

    private static IReadOnlyList<string> Texts(JsonObject activity) => FakeConnector.Texts(activity);
}
