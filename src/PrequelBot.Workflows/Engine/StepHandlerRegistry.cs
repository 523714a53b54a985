using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>The registered <see cref="IStepHandler"/>s by step name (the last registration of a name wins).</summary>
public sealed class StepHandlerRegistry(IEnumerable<IStepHandler> handlers)
{
    private readonly Dictionary<string, IStepHandler> _byName = handlers
        .GroupBy(h => h.StepName, StringComparer.Ordinal)
        .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    public IStepHandler? Find(string step) => _byName.GetValueOrDefault(step);

    /// <summary>The message when no adapter implements a step (its integration is not configured or not installed).</summary>
    public static string NotAvailable(string step) =>
        $"Step {step} is not available: its integration is not configured in this PrequelBot (see the start-up log).";
}
