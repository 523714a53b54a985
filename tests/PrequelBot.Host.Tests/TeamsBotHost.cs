using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Chat.Teams;
using PrequelBot.Chat.Teams.Tests.Fakes;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Tests;

/// <summary>A Teams user as the channel describes them in <c>from</c>; approvers are matched on <see cref="AadObjectId"/>.</summary>
public sealed record TeamsUser(string Id, string Name, string AadObjectId);

/// <summary>
/// The real host (Program, state store, Hangfire servers, the REAL Teams adapter) in-process, in the Production
/// environment, with the in-memory step handlers for AWS/PostgreSQL/Prequel. Teams is played by a
/// <see cref="FakeBotFrameworkAuthority"/> (keys, tokens) and a <see cref="FakeConnector"/> (the conversation) on 127.0.0.1,
/// both passed in so they outlive a host (a restarted host talks to the same Teams). The only way in is
/// <c>POST /api/messages</c>.
/// </summary>
public sealed class TeamsBotHost : IAsyncDisposable
{
    public const string ConversationId = "19:abc@thread.tacv2;messageid=1700000000000";
    public const string BotId = "28:" + FakeBotFrameworkAuthority.AppId;
    public const string TenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";

    public static readonly TeamsUser Requester = new("29:1requesterRita", "Rita Requester", "0b6f5e2a-6a43-4d59-9a38-0d1f2c3b4a51");
    public static readonly TeamsUser Approver = new("29:1XJKJMvc5GBtc2Jw", "Megan Bowen", "7faf8ab2-3d56-4244-b585-20c8a42ed2b8");
    public static readonly TeamsUser Stranger = new("29:1strangerSam", "Sam Stranger", "c3d2e1f0-1111-4222-8333-944455556666");

    private static long s_activitySequence = 1_700_000_100_000;
    private readonly WebApplicationFactory<Program> _factory;
    private readonly HttpClient _client;

    public TeamsBotHost(Dictionary<string, string?> settings, FakeInfrastructure world, FakeBotFrameworkAuthority authority, FakeConnector connector)
    {
        Authority = authority;
        Connector = connector;
        var values = new Dictionary<string, string?>(BotHost.BaseSettings(Approver.AadObjectId))
        {
            ["Teams:AppId"] = FakeBotFrameworkAuthority.AppId,
            ["Teams:AppPassword"] = FakeBotFrameworkAuthority.AppPassword,
            ["Teams:OpenIdMetadataUrl"] = authority.MetadataUrl,
            ["Teams:TokenEndpoint"] = authority.TokenEndpoint,
        };
        foreach (var (k, v) in settings) values[k] = v;
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            // Production: the adapter must not fall back to anything it only allows while developing.
            builder.UseEnvironment("Production");
            builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(values));
            builder.ConfigureTestServices(s =>
            {
                // These replace the AWS, PostgreSQL and Prequel handlers (the registry refuses two per step).
                s.ReplaceStepHandlers(world.Handlers());
                s.Configure<TeamsConnectorRetryOptions>(o => o.BaseDelay = TimeSpan.FromMilliseconds(10));
            });
        });
        _client = _factory.CreateClient();
    }

    public FakeBotFrameworkAuthority Authority { get; }
    public FakeConnector Connector { get; }

    public IStateStore State => _factory.Services.GetRequiredService<IStateStore>();

    /// <summary>A message activity from <paramref name="from"/> in the channel conversation, as Teams sends it; a fresh id each time.</summary>
    public JsonObject Message(TeamsUser from, string? text = null, JsonNode? value = null, string? replyToId = null)
    {
        var activity = new JsonObject
        {
            ["type"] = "message",
            ["id"] = Interlocked.Increment(ref s_activitySequence).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["channelId"] = "msteams",
            ["serviceUrl"] = Connector.ServiceUrl,
            ["from"] = new JsonObject { ["id"] = from.Id, ["name"] = from.Name, ["aadObjectId"] = from.AadObjectId },
            ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "PrequelBot" },
            ["conversation"] = new JsonObject { ["id"] = ConversationId, ["conversationType"] = "channel", ["tenantId"] = TenantId },
            ["channelData"] = new JsonObject { ["tenant"] = new JsonObject { ["id"] = TenantId } },
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
        if (text is not null)
        {
            activity["text"] = text;
            if (text.Contains("<at>PrequelBot</at>", StringComparison.Ordinal))
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

    /// <summary>A channel token for the connector's serviceUrl, signed with the msteams-endorsed key.</summary>
    public string ValidToken() => Authority.MintToken(Connector.ServiceUrl);

    /// <summary><c>POST /api/messages</c> with <c>Authorization: Bearer {token}</c> (no header when null).</summary>
    public Task<HttpResponseMessage> PostAsync(JsonObject activity, string? token) => PostRawAsync(activity.ToJsonString(), token);

    public async Task<HttpResponseMessage> PostRawAsync(string body, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/messages", UriKind.Relative))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await _client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }
}
