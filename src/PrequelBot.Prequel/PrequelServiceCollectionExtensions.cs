using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using PrequelBot.Prequel;
using PrequelBot.Workflows.Ports;

// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class PrequelServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Prequel API client (named HttpClient with GET retries on 429/5xx honouring Retry-After; POST is
    /// never retried blindly), the register-source step handler, the "Prequel" integration status, <see cref="IPrequelEgress"/> (the static IPs
    /// the AWS steps open the database to), and binds and validates the <c>Prequel</c> section at start-up. Needs <see cref="ISecretStore"/> and
    /// <c>IOptions&lt;DatabasesOptions&gt;</c> from the host. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddPrequelSource(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(PrequelClient)))
        {
            // Binding twice would append Prequel:StaticIps twice (lists are appended by the binder).
            return services;
        }
        services.AddLogging();
        services.AddOptions<PrequelOptions>().BindConfiguration(PrequelOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PrequelOptions>, PrequelOptionsValidator>());
        services.TryAddSingleton<IPrequelEgress, PrequelEgress>();
        services.AddOptions<PrequelRetryOptions>();

        services.AddHttpClient(PrequelClient.HttpClientName, (sp, client) =>
            {
                var options = sp.GetRequiredService<IOptions<PrequelOptions>>().Value;
                var baseUrl = options.BaseUrl.EndsWith('/') ? options.BaseUrl : options.BaseUrl + "/";
                client.BaseAddress = new Uri(baseUrl, UriKind.Absolute);
                client.Timeout = Timeout.InfiniteTimeSpan; // the resilience pipeline times each attempt
                if (!string.IsNullOrWhiteSpace(options.ApiKey))
                {
                    client.DefaultRequestHeaders.Add("X-API-KEY", options.ApiKey);
                }
                client.DefaultRequestHeaders.Add("X-Prequel-Api-Version", options.ApiVersion);
            })
            .AddResilienceHandler("prequel", (pipeline, context) =>
            {
                var retry = context.ServiceProvider.GetRequiredService<IOptions<PrequelRetryOptions>>().Value;
                var retryStrategy = new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = Math.Max(0, retry.MaxAttempts - 1),
                    BackoffType = Polly.DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = retry.BaseDelay,
                    MaxDelay = retry.MaxDelay,
                    ShouldRetryAfterHeader = true,
                };
                // POST /sources is not idempotent: the client lists again before re-POSTing instead.
                retryStrategy.DisableForUnsafeHttpMethods();
                pipeline.AddRetry(retryStrategy);
                pipeline.AddTimeout(retry.AttemptTimeout);
            });
        services.AddSingleton<PrequelClient>();
        services.TryAddSingleton<IPrequelClient>(sp => sp.GetRequiredService<PrequelClient>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, RegisterSourceStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionCheck, PrequelBot.Prequel.Checks.PrequelConnectionCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, UnregisterSourceStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, UpdateSourceStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIntegrationStatus, PrequelIntegrationStatus>());
        return services;
    }
}
