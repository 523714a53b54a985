using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PrequelBot.Workflows.Engine;

/// <summary>Builds the <see cref="StepHandlerRegistry"/> at start-up, so a missing or duplicate handler stops the host at once.</summary>
internal sealed class StepHandlerCheck(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<StepHandlerRegistry>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
