using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PrequelBot.Chat.Teams.Tests.Fakes;
using PrequelBot.Workflows.Chat;

namespace PrequelBot.Chat.Teams.Tests;

/// <summary>A minimal ASP.NET Core app with <c>AddTeamsChat()</c> + <c>MapTeamsEndpoints()</c> on 127.0.0.1, wired to the local fakes.</summary>
public sealed class BotHost : IAsyncDisposable
{
    public const string ConversationId = "19:abc@thread.tacv2;messageid=1700000000000";
    public const string BotId = "28:" + FakeBotFrameworkAuthority.AppId;

    private readonly HttpClient _http = new();
    public required WebApplication App { get; init; }
    public required string BaseUrl { get; init; }
    public required FakeBotFrameworkAuthority Authority { get; init; }
    public required FakeConnector Connector { get; init; }
    public required RecordingCommandHandler Commands { get; init; }
    public required RecordingApprovalDecider Decider { get; init; }

    public static async Task<BotHost> StartAsync(string? appId = FakeBotFrameworkAuthority.AppId, string environment = "Production")
    {
        var authority = await FakeBotFrameworkAuthority.StartAsync();
        var connector = await FakeConnector.StartAsync();
        var commands = new RecordingCommandHandler();
        var decider = new RecordingApprovalDecider();
        var (app, baseUrl) = await LoopbackServer.StartAsync(
            a => a.MapTeamsEndpoints(),
            b =>
            {
                b.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Teams:AppId"] = appId,
                    ["Teams:AppPassword"] = appId is null ? null : FakeBotFrameworkAuthority.AppPassword,
                    ["Teams:OpenIdMetadataUrl"] = authority.MetadataUrl,
                    ["Teams:TokenEndpoint"] = authority.TokenEndpoint,
                });
                b.Services.AddSingleton<IChatCommandHandler>(commands);
                b.Services.AddSingleton<IApprovalDecider>(decider);
                b.Services.AddTeamsChat();
                b.Services.Configure<TeamsConnectorRetryOptions>(o => o.BaseDelay = TimeSpan.FromMilliseconds(10));
            },
            environment);
        return new BotHost { App = app, BaseUrl = baseUrl, Authority = authority, Connector = connector, Commands = commands, Decider = decider };
    }

    /// <summary>An activity as Teams sends it to this bot.</summary>
    public JsonObject Activity(string type = "message", string? text = null, JsonObject? value = null, string? serviceUrl = null)
    {
        var activity = new JsonObject
        {
            ["type"] = type,
            ["id"] = "1700000123456",
            ["channelId"] = "msteams",
            ["serviceUrl"] = serviceUrl ?? Connector.ServiceUrl,
            ["from"] = new JsonObject { ["id"] = "29:1XJKJMvc5GBtc2Jw", ["name"] = "Megan Bowen", ["aadObjectId"] = "7faf8ab2-3d56-4244-b585-20c8a42ed2b8" },
            ["recipient"] = new JsonObject { ["id"] = BotId, ["name"] = "PrequelBot" },
            ["conversation"] = new JsonObject { ["id"] = ConversationId, ["conversationType"] = "channel", ["tenantId"] = "72f988bf-86f1-41af-91ab-2d7cd011db47" },
            ["timestamp"] = "2026-01-01T00:00:00Z",
            ["somethingNew"] = new JsonObject { ["x"] = 1 },
        };
        if (text is not null)
        {
            activity["text"] = text;
            activity["entities"] = new JsonArray(new JsonObject
            {
                ["type"] = "mention", ["text"] = "<at>PrequelBot</at>",
                ["mentioned"] = new JsonObject { ["id"] = BotId, ["name"] = "PrequelBot" },
            });
        }
        if (value is not null) activity["value"] = value;
        return activity;
    }

    public string ValidToken() => Authority.MintToken(Connector.ServiceUrl);

    public Task<HttpResponseMessage> PostAsync(JsonObject activity, string? token) =>
        PostRawAsync(activity.ToJsonString(), token);

    public async Task<HttpResponseMessage> PostRawAsync(string body, string? token, string scheme = "Bearer")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, BaseUrl + "api/messages")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);
        return await _http.SendAsync(request);
    }

    public T Service<T>() where T : notnull => App.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await App.DisposeAsync();
        await Connector.DisposeAsync();
        await Authority.DisposeAsync();
    }
}
