using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>
/// The registered <see cref="IStepHandler"/>s by step name, checked against every <see cref="StepCatalogue"/>: a step
/// without a handler, two handlers for one step, or a handler for no step fails at start-up (not when a user first
/// reaches that step).
/// </summary>
public sealed class StepHandlerRegistry
{
    private readonly Dictionary<string, IStepHandler> _byName;

    public StepHandlerRegistry(IEnumerable<IStepHandler> handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var all = handlers.ToList();
        var problems = new List<string>();
        foreach (var twice in all.GroupBy(h => h.StepName, StringComparer.Ordinal).Where(g => g.Count() > 1))
            problems.Add($"{twice.Key} has {twice.Count()} handlers ({string.Join(", ", twice.Select(h => h.GetType().Name))})");
        _byName = all.GroupBy(h => h.StepName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var known = StepCatalogue.All.SelectMany(c => c.Steps).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        problems.AddRange(known.Where(step => !_byName.ContainsKey(step)).Order(StringComparer.Ordinal).Select(step => $"{step} has no handler"));
        problems.AddRange(_byName.Keys.Where(step => !known.Contains(step)).Order(StringComparer.Ordinal).Select(step => $"{step} is a handler for no step"));
        if (problems.Count > 0) throw new InvalidOperationException("Step handlers do not match the step catalogue: " + string.Join("; ", problems) + ".");
    }

    public IStepHandler For(string step) =>
        _byName.TryGetValue(step, out var handler) ? handler : throw new InvalidOperationException($"No handler for step {step}.");
}
