using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using PrequelBot.Chat.Teams;
using PrequelBot.Workflows.Ports;

// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class TeamsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Teams adapter: options (section <c>Teams</c>, validated at start-up), JWT validation, the
    /// Connector client with retries, the background activity worker, the chat port and the integration status.
    /// Safe to call twice. Needs <see cref="PrequelBot.Workflows.Chat.IChatCommandHandler"/> and
    /// <see cref="PrequelBot.Workflows.Chat.IApprovalDecider"/> from the host.
    /// </summary>
    public static IServiceCollection AddTeamsChat(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(TeamsAdapterMarker))) return services;
        services.AddSingleton<TeamsAdapterMarker>();

        services.AddOptions<TeamsOptions>().BindConfiguration(TeamsOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TeamsOptions>, TeamsOptionsValidator>());
        services.AddOptions<TeamsConnectorRetryOptions>();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BotFrameworkAuthenticator>();
        services.TryAddSingleton<TeamsAccessGate>();
        services.TryAddSingleton<ConnectorTokenProvider>();
        services.TryAddSingleton<ConversationSendLimiter>();
        services.TryAddSingleton<ConnectorClient>();
        services.TryAddSingleton<TeamsActivityQueue>();
        services.TryAddScoped<TeamsActivityProcessor>();
        services.AddHostedService<TeamsActivityWorker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatPlatform, TeamsChatPlatform>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIntegrationStatus, TeamsIntegrationStatus>());

        services.AddHttpClient(BotFrameworkAuthenticator.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(10));
        services.AddHttpClient(ConnectorTokenProvider.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(15));
        services.AddHttpClient(ConnectorClient.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(100))
            .AddResilienceHandler("teams-connector", (pipeline, context) =>
            {
                var retry = context.ServiceProvider.GetRequiredService<IOptions<TeamsConnectorRetryOptions>>().Value;
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = retry.MaxRetryAttempts,
                    Delay = retry.BaseDelay,
                    MaxDelay = retry.MaxDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    ShouldRetryAfterHeader = true,
                    ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, retry.MaxDelay)),
                });
            });
        return services;
    }

    /// <summary>429, 412 and 5xx gateway errors are transient (Teams rate-limit guidance); a Retry-After beyond the cap is left to the outbox.</summary>
    private static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, TimeSpan maxDelay)
    {
        if (outcome.Exception is HttpRequestException or TimeoutException) return true;
        if (outcome.Result is not { } response) return false;
        return response.StatusCode switch
        {
            HttpStatusCode.TooManyRequests => ConnectorClient.RetryAfter(response) is not { } wait || wait <= maxDelay,
            HttpStatusCode.PreconditionFailed or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway
                or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => true,
            _ => false,
        };
    }

    private sealed class TeamsAdapterMarker;
}
