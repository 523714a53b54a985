using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Tests;

/// <summary>
/// The real host with the real Slack adapter: Slack settings point the Web API at a <see cref="FakeSlackApi"/> on
/// 127.0.0.1, the step handlers are <see cref="FakeInfrastructure"/>. Tests talk to it only as Slack does: signed
/// <c>POST /slack/commands</c> and <c>POST /slack/interactions</c>, and read what the bot posted from the fake.
/// </summary>
public sealed class SlackBotHost : IAsyncDisposable
{
    public const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    public const string TeamId = "T0TEAM0001";
    public const string ChannelId = "C0123456789";
    public const string RequesterId = "UREQUESTER";
    public const string ApproverId = "UAPPROVER";
    public const string OutsiderId = "UOUTSIDER";

    private readonly WebApplicationFactory<Program> _factory;
    private readonly HttpClient _client;

    private SlackBotHost(FakeSlackApi slack, FakeInfrastructure world, WebApplicationFactory<Program> factory)
    {
        Slack = slack;
        World = world;
        _factory = factory;
        _client = factory.CreateClient();
    }

    public FakeSlackApi Slack { get; }

    public FakeInfrastructure World { get; }

    public IStateStore Store => _factory.Services.GetRequiredService<IStateStore>();

    /// <summary>
    /// Starts the host. With <paramref name="socketMode"/> it gets <c>Slack:AppToken</c> and no signing secret: every HTTP
    /// request to <c>/slack/*</c> would be refused, so whatever reaches the bot came over Socket Mode.
    /// </summary>
    public static async Task<SlackBotHost> StartAsync(string directory, FakeInfrastructure? world = null, bool socketMode = false, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, bool realAdapters = false)
    {
        world ??= new FakeInfrastructure();
        var slack = new FakeSlackApi();
        await slack.StartAsync();
        var values = new Dictionary<string, string?>(BotHost.BaseSettings(ApproverId))
        {
            ["Storage:Provider"] = "Sqlite",
            ["Storage:ConnectionString"] = $"Data Source={Path.Combine(directory, "state.db")}",
            ["Slack:SigningSecret"] = SigningSecret,
            ["Slack:BotToken"] = slack.BotToken,
            ["Slack:ApiBaseUrl"] = slack.BaseUrl,
        };
        if (socketMode)
        {
            values["Slack:SigningSecret"] = "";
            values["Slack:AppToken"] = slack.AppToken;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(values));
            // Only the outside world is replaced; the chat port is the real Slack adapter.
            builder.ConfigureTestServices(s =>
            {
                if (!realAdapters) s.ReplaceStepHandlers(world.Handlers());
                services?.Invoke(s);
            });
        });
        _ = factory.Server; // start now: hosted services (schema, Hangfire, reconciler) run from here on
        return new SlackBotHost(slack, world, factory);
    }

    /// <summary>
    /// Types <c>/prequel {text}</c> as <paramref name="userId"/>. Returns the HTTP status and the ephemeral answer: the
    /// acknowledgement's JSON, or — when the command took longer than Slack's window — what followed on <c>response_url</c>.
    /// </summary>
    public async Task<(HttpStatusCode Status, JsonObject? Reply)> CommandAsync(string text, string userId = RequesterId, string teamId = TeamId)
    {
        var hook = "commands/" + teamId + "/" + Guid.NewGuid().ToString("N");
        var body = Form(CommandFields(text, userId, hook, teamId));
        using var response = await SendAsync("/slack/commands", body);
        if (response.StatusCode != HttpStatusCode.OK) return (response.StatusCode, null);

        var ack = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        return (response.StatusCode, await LateReplyAsync(ack, hook));
    }

    /// <summary>
    /// Types <c>/prequel {text}</c> over Socket Mode: a <c>slash_commands</c> envelope on an open connection (or
    /// <paramref name="connection"/>). Returns the acknowledgement's payload, or what followed on <c>response_url</c>.
    /// </summary>
    public async Task<JsonObject?> CommandOverSocketAsync(string text, string userId = RequesterId, FakeSocketModeConnection? connection = null, string teamId = TeamId)
    {
        var hook = "commands/" + teamId + "/" + Guid.NewGuid().ToString("N");
        var payload = new JsonObject();
        foreach (var (key, value) in CommandFields(text, userId, hook, teamId)) payload[key] = value;
        payload["is_enterprise_install"] = "false";
        var ack = await Slack.SendEnvelopeAsync("slash_commands", payload, connection);
        return ack["payload"] is JsonObject answer ? await LateReplyAsync(answer, hook) : null;
    }

    /// <summary>Clicks like <see cref="ClickAsync"/>, as an <c>interactive</c> envelope over Socket Mode; returns the acknowledgement.</summary>
    public Task<JsonObject> ClickOverSocketAsync(FakeSlackMessage message, string buttonText, string userId = ApproverId, FakeSocketModeConnection? connection = null, string teamId = TeamId) =>
        Slack.SendEnvelopeAsync("interactive", ClickPayload(message, buttonText, userId, teamId), connection);

    private async Task<JsonObject> LateReplyAsync(JsonObject ack, string hook)
    {
        if (ack["text"]?.GetValue<string>() != "Working on it…") return ack;
        var late = await Slack.WaitForCallsAsync("hooks/" + hook, timeout: TimeSpan.FromSeconds(60));
        return late.Single().Body;
    }

    private (string Key, string Value)[] CommandFields(string text, string userId, string hook, string teamId) =>
        [
            ("token", "deprecated-verification-token"),
            ("team_id", teamId),
            ("team_domain", "acme"),
            ("channel_id", ChannelId),
            ("channel_name", "data-eng"),
            ("user_id", userId),
            ("user_name", userId.ToLowerInvariant()),
            ("command", "/prequel"),
            ("text", text),
            ("api_app_id", "A0123456789"),
            ("response_url", Slack.HooksUrl + hook),
            ("trigger_id", "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"),
        ];

    /// <summary>
    /// Clicks the button titled <paramref name="buttonText"/> on a message the bot posted, as <paramref name="userId"/>:
    /// a <c>block_actions</c> payload built as Slack builds it from the posted blocks (action_id, block_id, value), signed.
    /// </summary>
    public async Task<HttpStatusCode> ClickAsync(FakeSlackMessage message, string buttonText, string userId = ApproverId, string teamId = TeamId)
    {
        using var response = await SendAsync("/slack/interactions", "payload=" + WebUtility.UrlEncode(ClickPayload(message, buttonText, userId, teamId).ToJsonString()));
        return response.StatusCode;
    }

    /// <summary>The <c>block_actions</c> payload Slack sends when <paramref name="userId"/> clicks <paramref name="buttonText"/>.</summary>
    public JsonObject ClickPayload(FakeSlackMessage message, string buttonText, string userId = ApproverId, string teamId = TeamId)
    {
        var actions = message.Blocks!.OfType<JsonObject>().Single(b => b["type"]?.GetValue<string>() == "actions");
        var button = actions["elements"]!.AsArray().OfType<JsonObject>().Single(e => e["text"]?["text"]?.GetValue<string>() == buttonText);
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = userId, ["username"] = userId.ToLowerInvariant(), ["team_id"] = teamId },
            ["api_app_id"] = "A0123456789",
            ["token"] = "deprecated-verification-token",
            ["team"] = new JsonObject { ["id"] = teamId, ["domain"] = "acme" },
            ["container"] = new JsonObject
            {
                ["type"] = "message",
                ["message_ts"] = message.Ts,
                ["channel_id"] = message.Channel,
                ["is_ephemeral"] = false,
                ["thread_ts"] = message.ThreadTs,
            },
            ["channel"] = new JsonObject { ["id"] = message.Channel, ["name"] = "data-eng" },
            ["message"] = new JsonObject
            {
                ["type"] = "message",
                ["ts"] = message.Ts,
                ["thread_ts"] = message.ThreadTs,
                ["text"] = message.Text,
                ["blocks"] = message.Blocks!.DeepClone(),
            },
            ["response_url"] = Slack.HooksUrl + "actions/" + teamId + "/" + Guid.NewGuid().ToString("N"),
            ["trigger_id"] = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
            ["actions"] = new JsonArray(new JsonObject
            {
                ["type"] = "button",
                ["action_id"] = button["action_id"]!.DeepClone(),
                ["block_id"] = actions["block_id"]!.DeepClone(),
                ["value"] = button["value"]!.DeepClone(),
                ["text"] = button["text"]!.DeepClone(),
                ["action_ts"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture).Insert(10, "."),
            }),
        };
        return payload;
    }

    /// <summary>Sends <paramref name="body"/> as a form POST signed with the signing secret at <paramref name="at"/> (default: now).</summary>
    public async Task<HttpResponseMessage> SendAsync(string path, string body, DateTimeOffset? at = null, string secret = SigningSecret, string contentType = "application/x-www-form-urlencoded")
    {
        using var request = SlackSigner.SignedForm(path, secret, body, at);
        request.Content!.Headers.ContentType = new(contentType);
        return await _client.SendAsync(request);
    }

    /// <summary>The status code of <see cref="SendAsync"/>.</summary>
    public async Task<HttpStatusCode> StatusOfAsync(string path, string body, string contentType = "application/x-www-form-urlencoded")
    {
        using var response = await SendAsync(path, body, contentType: contentType);
        return response.StatusCode;
    }

    /// <summary>GET <paramref name="path"/> from <paramref name="remote"/> (TestServer requests have no peer address otherwise).</summary>
    public Task<HttpContext> GetFromAsync(string path, IPAddress remote) =>
        _factory.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = path;
            c.Connection.RemoteIpAddress = remote;
            c.Connection.LocalIpAddress = IPAddress.Loopback;
        });

    public IServiceProvider Services => _factory.Services;

    /// <summary>Sends a raw request as given (for missing or forged headers).</summary>
    public Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request) => _client.SendAsync(request);

    /// <summary>Form-encodes as Slack does: <c>application/x-www-form-urlencoded</c>, spaces as <c>+</c>.</summary>
    public static string Form(params (string Key, string Value)[] fields) =>
        string.Join('&', fields.Select(f => WebUtility.UrlEncode(f.Key) + "=" + WebUtility.UrlEncode(f.Value)));

    /// <summary>The onboarding card: the one top-level message the bot posted in the channel (null before it is posted).</summary>
    public FakeSlackMessage? Card => Slack.Messages.Values.SingleOrDefault(m => m.ThreadTs is null && m.Channel == ChannelId);

    /// <summary>The approval prompts in the card's thread, oldest first.</summary>
    public IReadOnlyList<FakeSlackMessage> Prompts =>
        Card is { } card
            ? [.. Slack.Messages.Values.Where(m => m.ThreadTs == card.Ts).OrderBy(m => m.Ts, StringComparer.Ordinal)]
            : [];

    /// <summary>Prompts that still show buttons.</summary>
    public IReadOnlyList<FakeSlackMessage> PendingPrompts => [.. Prompts.Where(HasButtons)];

    public static bool HasButtons(FakeSlackMessage message) =>
        message.Blocks?.OfType<JsonObject>().Any(b => b["type"]?.GetValue<string>() == "actions") == true;

    /// <summary>All text of a message's blocks, for assertions on what a user sees.</summary>
    public static string Visible(FakeSlackMessage message) =>
        string.Join('\n', (message.Blocks ?? []).SelectMany(Strings).Prepend(message.Text ?? ""));

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var text) => [text],
        _ => [],
    };

    public async Task<OnboardingAggregate> LoadAsync(string id) =>
        await Store.LoadAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"No onboarding {id}.");

    public async Task<IReadOnlyList<OnboardingListing>> OnboardingsAsync() => await Store.ListRecentWithCurrentStepAsync(100, CancellationToken.None);

    /// <summary>Waits until a pending prompt for <paramref name="step"/> is shown in the card's thread.</summary>
    public async Task<FakeSlackMessage> PendingPromptAsync(string step)
    {
        FakeSlackMessage? found = null;
        await BotHost.EventuallyAsync(() =>
        {
            found = PendingPrompts.FirstOrDefault(p => p.Text?.Contains($"for {step} of", StringComparison.Ordinal) == true);
            return Task.FromResult(found is not null);
        }, $"a prompt for {step} with buttons is posted", TimeSpan.FromSeconds(60));
        return found!;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await Slack.DisposeAsync();
    }

}
