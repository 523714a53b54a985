using Microsoft.Extensions.DependencyInjection.Extensions;
using PrequelBot.Host;

namespace Microsoft.Extensions.DependencyInjection;

public static class HostServiceCollectionExtensions
{
    /// <summary>Registers the start-up report (one line per integration). Safe to call twice.</summary>
    public static IServiceCollection AddStartupReport(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StartupReport>());
        return services;
    }
}
