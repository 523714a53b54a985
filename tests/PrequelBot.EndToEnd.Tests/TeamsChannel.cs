using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PrequelBot.Chat.Teams.Tests.Fakes;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>A Teams user as the channel describes them in <c>from</c>; approvers are matched on <see cref="AadObjectId"/>.</summary>
public sealed record TeamsUser(string Id, string Name, string AadObjectId);

/// <summary>
/// One Teams channel conversation around the hosts: people post messages that mention the bot and click the
/// <c>Action.Submit</c> buttons of its Adaptive Cards; each arrives as an activity <c>POST</c>ed to a host's
/// <c>/api/messages</c> with a bearer JWT from the <see cref="FakeBotFrameworkAuthority"/> (endorsed for msteams, its
/// <c>serviceurl</c> claim naming the connector). What the bot posts is what the <see cref="FakeConnector"/> keeps.
/// </summary>
public sealed partial class TeamsChannel : IChatChannel, IAsyncDisposable
{
    public const string ConversationId = "19:e2e@thread.tacv2;messageid=1700000000000";
    public const string BotId = "28:" + FakeBotFrameworkAuthority.AppId;
    public const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    /// <summary>Every Connector path of this conversation: each id segment escaped.</summary>
    public const string EscapedConversationPath = "/connector/v3/conversations/19%3Ae2e%40thread.tacv2%3Bmessageid%3D1700000000000/activities";

    public static readonly TeamsUser Requester = new("29:1requesterRita", "Rita Requester", "0b6f5e2a-6a43-4d59-9a38-0d1f2c3b4a51");
    public static readonly TeamsUser Approver = new("29:1XJKJMvc5GBtc2Jw", "Megan Bowen", "7faf8ab2-3d56-4244-b585-20c8a42ed2b8");

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private long _activitySequence = 1_700_000_100_000;

    private TeamsChannel(FakeBotFrameworkAuthority authority, FakeConnector connector)
    {
        Authority = authority;
        Connector = connector;
    }

    public FakeBotFrameworkAuthority Authority { get; }
    public FakeConnector Connector { get; }

    public static async Task<TeamsChannel> StartAsync()
    {
        var authority = await FakeBotFrameworkAuthority.StartAsync();
        try
        {
            return new TeamsChannel(authority, await FakeConnector.StartAsync());
        }
        catch
        {
            await authority.DisposeAsync();
            throw;
        }
    }

    /// <summary>The host settings that point the Teams adapter at this channel's authority (keys, tokens) and connector.</summary>
    public Dictionary<string, string> Settings() => new()
    {
        ["Teams__AppId"] = FakeBotFrameworkAuthority.AppId,
        ["Teams__AppPassword"] = FakeBotFrameworkAuthority.AppPassword,
        ["Teams__OpenIdMetadataUrl"] = Authority.MetadataUrl,
        ["Teams__TokenEndpoint"] = Authority.TokenEndpoint,
    };

    /// <summary>Posts "@PrequelBot {text}" in the channel as <see cref="Requester"/>, sent to <paramref name="host"/>.</summary>
    public Task CommandAsync(HostProcess host, string text) =>
        SendAsync(host, Message(Requester, text: "<at>PrequelBot</at> " + text));

    /// <summary>
    /// Clicks Approve on <paramref name="prompt"/>: Teams sends the <c>data</c> of the <c>Action.Submit</c> the bot posted
    /// as the <c>value</c> of a message activity that replies to the prompt.
    /// </summary>
    public Task ApproveAsync(HostProcess host, ChannelPrompt prompt)
    {
        var card = Connector.Activities[prompt.MessageId];
        var approve = Content(card)["actions"]!.AsArray()
            .Single(a => (string?)a?["type"] == "Action.Submit" && (string?)a?["title"] == "Approve")!;
        return SendAsync(host, Message(Approver, value: approve["data"], replyToId: prompt.MessageId));
    }

    public async Task<string> WaitForOnboardingIdAsync(TimeSpan timeout)
    {
        string? id = null;
        await Eventually.Async(() =>
        {
            id = OnboardingCards().Select(c => CardHead().Match(FirstText(c.Card) ?? "")).FirstOrDefault(m => m.Success)?.Groups["id"].Value;
            return Task.FromResult(id is not null);
        }, "an onboarding card is posted to the conversation", timeout);
        return id!;
    }

    /// <summary>The <c>State</c> fact of the onboarding card as it is now (after every in-place update).</summary>
    public string? CardState(string onboardingId) =>
        OnboardingCards().Where(c => Fact(c.Card, "Id") == onboardingId).Select(c => Fact(c.Card, "State")).FirstOrDefault();

    public string CardText(string onboardingId) =>
        OnboardingCards().Where(c => Fact(c.Card, "Id") == onboardingId).Select(c => string.Join('\n', Texts(c.Card))).FirstOrDefault() ?? "(no card)";

    /// <summary>Prompts of <paramref name="onboardingId"/> that still show their Action.Submit buttons.</summary>
    public IReadOnlyList<ChannelPrompt> PendingPrompts(string onboardingId) =>
        [.. Prompts()
            .Where(p => Content(p.Prompt)["actions"] is JsonArray { Count: > 0 })
            .Select(p => (p.Id, Head: PromptHead().Match(FirstText(p.Prompt) ?? ""), Approve: ApprovalId(p.Prompt)))
            .Where(p => p.Head.Success && p.Head.Groups["id"].Value == onboardingId && p.Approve is not null)
            .Select(p => new ChannelPrompt(p.Id, p.Head.Groups["step"].Value, p.Approve!))];

    /// <summary>Onboarding cards posted as new activities in the conversation (counted by calls, so a duplicate post shows).</summary>
    public int CardPostCount() =>
        Connector.Delivered.Count(c => c.Method == "POST" && c.ActivityId is null && CardHead().IsMatch(FirstText(c.Body) ?? ""));

    /// <summary>Prompts posted (replies to the card), per step.</summary>
    public IReadOnlyList<string> PromptPostSteps() =>
        [.. Connector.Delivered.Where(c => c.Method == "POST" && c.ActivityId is not null)
            .Select(c => PromptHead().Match(FirstText(c.Body) ?? "")).Where(m => m.Success).Select(m => m.Groups["step"].Value)];

    public bool EverCarried(string secret) =>
        Connector.Calls.Any(c => c.Body.ToJsonString().Contains(secret, StringComparison.Ordinal));

    /// <summary>The prompts as they are now, each with the texts it shows (for "approved by").</summary>
    public IReadOnlyList<(string Id, JsonObject Prompt)> Prompts() =>
        [.. Connector.Activities.Where(a => PromptHead().IsMatch(FirstText(a.Value) ?? ""))
            .OrderBy(a => long.Parse(a.Key, CultureInfo.InvariantCulture)).Select(a => (a.Key, a.Value))];

    public static bool ShowsButtons(JsonObject activity) => Content(activity)["actions"] is JsonArray { Count: > 0 };

    /// <summary>Every text the activity shows (<see cref="FakeConnector.Texts"/>).</summary>
    public static IReadOnlyList<string> Texts(JsonObject activity) => FakeConnector.Texts(activity);

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await Connector.DisposeAsync();
        await Authority.DisposeAsync();
    }

    private List<(string Id, JsonObject Card)> OnboardingCards() =>
        [.. Connector.Activities.Where(a => CardHead().IsMatch(FirstText(a.Value) ?? "")).Select(a => (a.Key, a.Value))];

    /// <summary>A message activity from <paramref name="from"/> in the channel conversation, as Teams sends it; a fresh id each time.</summary>
    private JsonObject Message(TeamsUser from, string? text = null, JsonNode? value = null, string? replyToId = null)
    {
        var activity = new JsonObject
        {
            ["type"] = "message",
            ["id"] = Interlocked.Increment(ref _activitySequence).ToString(CultureInfo.InvariantCulture),
            ["channelId"] = "msteams",
            ["serviceUrl"] = Connector.ServiceUrl,
            ["from"] = new JsonObject { ["id"] = from.Id, ["name"] = from.Name, ["aadObjectId"] = from.AadObjectId },
            ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "PrequelBot" },
            ["conversation"] = new JsonObject { ["id"] = ConversationId, ["conversationType"] = "channel", ["tenantId"] = TenantId },
            ["channelData"] = new JsonObject { ["tenant"] = new JsonObject { ["id"] = TenantId } },
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        if (text is not null)
        {
            activity["text"] = text;
            activity["entities"] = new JsonArray(new JsonObject
            {
                ["type"] = "mention",
                ["text"] = "<at>PrequelBot</at>",
                ["mentioned"] = new JsonObject { ["id"] = BotId, ["name"] = "PrequelBot" },
            });
        }

        if (value is not null) activity["value"] = value.DeepClone();
        if (replyToId is not null) activity["replyToId"] = replyToId;
        return activity;
    }

    /// <summary><c>POST /api/messages</c> with a fresh channel token (signed with the msteams-endorsed key) for the connector's serviceUrl.</summary>
    private async Task SendAsync(HostProcess host, JsonObject activity)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(host.BaseAddress, "/api/messages"))
        {
            Content = new StringContent(activity.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Authority.MintToken(Connector.ServiceUrl));
        using var response = await _http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/api/messages answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{host.Tail()}");
    }

    /// <summary>Whether <paramref name="activity"/> is an approval prompt for <paramref name="step"/>.</summary>
    public static bool IsPromptFor(JsonObject activity, string step) =>
        PromptHead().Match(FirstText(activity) ?? "") is { Success: true } m && m.Groups["step"].Value == step;

    private static string? ApprovalId(JsonObject prompt) =>
        Content(prompt)["actions"]?.AsArray()
            .FirstOrDefault(a => (string?)a?["type"] == "Action.Submit" && (string?)a?["title"] == "Approve")?["data"]?["approvalId"]?.GetValue<string>();

    private static string? FirstText(JsonObject activity) =>
        activity["attachments"]?[0]?["content"]?["body"]?[0]?["text"]?.GetValue<string>();

    private static JsonObject Content(JsonObject activity) => activity["attachments"]![0]!["content"]!.AsObject();

    private static string? Fact(JsonObject activity, string title) =>
        Content(activity)["body"]!.AsArray()
            .Where(b => (string?)b?["type"] == "FactSet")
            .SelectMany(b => b!["facts"]!.AsArray())
            .FirstOrDefault(f => (string?)f?["title"] == title)?["value"]?.GetValue<string>();

    [GeneratedRegex(@"^Onboarding (?<id>ob-[a-z0-9]+): ")]
    private static partial Regex CardHead();

    [GeneratedRegex(@"^Approval needed for (?<step>[a-z-]+) of (?<id>ob-[a-z0-9]+) ")]
    private static partial Regex PromptHead();
}
