using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using PrequelBot.Chat.Slack;
using PrequelBot.Workflows.Ports;

// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class SlackServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Slack adapter: options (section <c>Slack</c>, validated at start-up), signature verification,
    /// the Web API client (named HttpClient with retries for transient failures), the chat port
    /// (<see cref="IChatPlatform"/> "slack"), an <see cref="IIntegrationStatus"/>, the shared inbound handler and
    /// Socket Mode (a hosted service, active only with <c>Slack:AppToken</c>). Safe to call twice.
    /// Map the endpoints with <c>app.MapSlackEndpoints()</c>.
    /// </summary>
    public static IServiceCollection AddSlackChat(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(SlackChatMarker)))
        {
            return services;
        }

        services.AddSingleton<SlackChatMarker>();
        services.AddOptions<SlackOptions>().BindConfiguration(SlackOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SlackOptions>, SlackOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<SlackRequestVerifier>();
        services.TryAddSingleton<SlackWorkspaceGate>();
        services.TryAddSingleton<SlackBackgroundReplies>();
        services.TryAddSingleton<SlackInboundHandler>();
        services.TryAddSingleton<SlackEnvelopeDeduplicator>();
        // Does nothing unless Slack:AppToken is set (docs/slack-socket-mode.md).
        services.TryAddSingleton<SlackSocketMode>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SlackSocketMode>(sp => sp.GetRequiredService<SlackSocketMode>()));

        // The default HTTP logging would write full URIs, and a response_url path is a capability to post
        // into the user's conversation; SlackWebApiClient logs method names and error codes itself.
        // A named client with an explicit factory rather than AddHttpClient<T>: the typed-client factory builds
        // its activator by compiling an expression tree, which loads System.Linq.Expressions and the emitter at
        // start-up for one constructor call (bench/README.md, "Idle cost and start-up time").
        services.AddHttpClient(SlackWebApiClient.HttpClientName, http => http.Timeout = TimeSpan.FromSeconds(60))
            .RemoveAllLoggers()
            .AddResilienceHandler("slack-web-api", pipeline => pipeline
                .AddRetry(SlackTransientFailures.RetryOptions())
                .AddTimeout(TimeSpan.FromSeconds(10)));
        services.TryAddTransient(sp => new SlackWebApiClient(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(SlackWebApiClient.HttpClientName),
            sp.GetRequiredService<IOptionsMonitor<SlackOptions>>(),
            sp.GetRequiredService<ILogger<SlackWebApiClient>>()));

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatPlatform, SlackChatPlatform>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIntegrationStatus, SlackIntegrationStatus>());
        return services;
    }

    /// <summary>Marks that <see cref="AddSlackChat"/> ran, so a second call adds nothing (the HTTP pipeline must not be doubled).</summary>
    private sealed class SlackChatMarker;
}
