using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Ports;

/// <summary>One finding of <c>check</c>: <c>ok …</c> or <c>drift: …</c> (docs/workflow.md, "Check").</summary>
public sealed record CheckFinding(bool Ok, string Text)
{
    public static CheckFinding Fine(string text) => new(true, text);

    public static CheckFinding Drift(string text) => new(false, text);

    /// <summary>The line <c>check</c> answers with.</summary>
    public string Line => Ok ? $"ok {Text}" : $"drift: {Text}";

    /// <summary>
    /// What the drift watch compares between two checks (docs/workflow.md, "Drift"): the line itself, except for an area
    /// that could not be checked, whose error text may differ from run to run.
    /// </summary>
    public string Key { get; init; } = Ok ? $"ok {Text}" : $"drift: {Text}";

    /// <summary>A <c>drift:</c> line for an area whose check could not run; compared by area only.</summary>
    public static CheckFinding NotChecked(string area, string reason) =>
        new(false, $"{area} could not be checked{reason}") { Key = $"drift: {area} could not be checked" };
}

/// <summary>
/// What <c>check</c> compares: the connection's request (alias, schemas, user), the facts its last connect learned, and
/// the change record of every connect since the last disconnect.
/// </summary>
/// <param name="ConnectOnboardingId">The last completed connect (the role marker names it).</param>
/// <param name="Request">That connect's request (alias, schemas, tables, user).</param>
/// <param name="Facts">What that connect learned (source and target instance).</param>
/// <param name="Changes">The merged change record of the connects since the last disconnect.</param>
public sealed record ConnectionCheckContext(string ConnectOnboardingId, OnboardingRequest Request, OnboardingFacts Facts, ChangeRecord Changes);

/// <summary>
/// One adapter's part of <c>check</c> (docs/workflow.md, "Check"): reads live state and compares it with the record.
/// Only reads — never changes anything — so it is safe to run at any moment and to kill. Each adapter registers its own
/// in its <c>AddXxx</c> extension; the engine composes them.
/// </summary>
public interface IConnectionCheck
{
    /// <summary>What this check looks at ("AWS", "PostgreSQL", "Prequel"), for a line when it cannot run.</summary>
    string Area { get; }

    Task<IReadOnlyList<CheckFinding>> CheckAsync(ConnectionCheckContext context, CancellationToken cancellationToken);
}
