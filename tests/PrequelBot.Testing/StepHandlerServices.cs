using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Testing;

/// <summary>Swaps the product's step handlers for test ones: the engine refuses two handlers for one step.</summary>
public static class StepHandlerServices
{
    /// <summary>Removes every registered <see cref="IStepHandler"/> and registers <paramref name="handlers"/> instead.</summary>
    public static IServiceCollection ReplaceStepHandlers(this IServiceCollection services, IEnumerable<IStepHandler> handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        services.RemoveAll<IStepHandler>();
        foreach (var handler in handlers) services.AddSingleton(handler);
        return services;
    }
}
