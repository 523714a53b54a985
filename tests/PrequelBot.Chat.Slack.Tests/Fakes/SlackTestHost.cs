using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Chat;

namespace PrequelBot.Chat.Slack.Tests.Fakes;

/// <summary>
/// A minimal ASP.NET Core app on 127.0.0.1 with <c>AddSlackChat()</c> + <c>MapSlackEndpoints()</c>, recording fakes for
/// the command handler and the decider, and the Slack Web API pointed at a <see cref="FakeSlackApi"/>.
/// </summary>
public sealed class SlackTestHost : IAsyncDisposable
{
    public const string Secret = "8f742231b10e8888abcd99yyyzzz85a5";

    private WebApplication? _app;

    public FakeSlackApi Slack { get; } = new();
    public RecordingCommandHandler Handler { get; } = new();
    public RecordingApprovalDecider Decider { get; } = new();
    public CapturingLoggerProvider Logs { get; } = new();
    public HttpClient Client { get; private set; } = null!;

    /// <summary>Starts the app; with <paramref name="socketMode"/> it also holds Socket Mode connections to the fake (<c>Slack:AppToken</c>).</summary>
    public static async Task<SlackTestHost> StartAsync(bool socketMode = false)
    {
        var host = new SlackTestHost();
        await host.Slack.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration["Slack:SigningSecret"] = Secret;
        builder.Configuration["Slack:BotToken"] = host.Slack.BotToken;
        builder.Configuration["Slack:ApiBaseUrl"] = host.Slack.BaseUrl;
        if (socketMode) builder.Configuration["Slack:AppToken"] = host.Slack.AppToken;
        builder.Logging.ClearProviders().AddProvider(host.Logs).SetMinimumLevel(LogLevel.Trace);
        builder.Services.AddSlackChat();
        builder.Services.AddSingleton<IChatCommandHandler>(host.Handler);
        builder.Services.AddSingleton<IApprovalDecider>(host.Decider);
        host._app = builder.Build();
        host._app.MapSlackEndpoints();
        await host._app.StartAsync();
        var address = host._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        host.Client = new HttpClient { BaseAddress = new Uri(address) };
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null) await _app.DisposeAsync();
        await Slack.DisposeAsync();
    }
}
