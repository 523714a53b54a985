namespace PrequelBot.Workflows.Domain;

/// <summary>The kinds of onboarding (docs/workflow.md). Each has one <see cref="StepCatalogue"/>; stored by name, so only append.</summary>
public enum OnboardingKind { Connect, Disconnect, Rotate }

/// <summary>What a step needs from the settings of the database it works on, beyond AWS.</summary>
public enum StepNeeds
{
    /// <summary>AWS and the Prequel settings only: plannable for any RDS instance identifier.</summary>
    Aws,
    /// <summary>A configured alias with <c>Databases:&lt;alias&gt;:AdminConnectionString</c>.</summary>
    DatabaseAdmin,
}

/// <summary>
/// One step of a kind of onboarding (docs/architecture.md, "Step catalogue").
/// </summary>
/// <param name="Name">The step name (<see cref="StepNames"/>).</param>
/// <param name="NeedsApproval">A plan with changes asks approvers first.</param>
/// <param name="ReadsOnly">Apply only reads (e.g. discover): <c>plan</c> applies it to learn the facts later steps plan from.</param>
/// <param name="Needs">What the step needs configured; <c>plan</c> says so in one line instead of planning it.</param>
/// <param name="AppliesTo">Whether the step is part of an onboarding with this request (e.g. replica-only steps).</param>
public sealed record StepDefinition(string Name, bool NeedsApproval, bool ReadsOnly = false, StepNeeds Needs = StepNeeds.Aws, Func<OnboardingRequest, bool>? AppliesTo = null)
{
    public bool IsPartOf(OnboardingRequest request) => AppliesTo?.Invoke(request) ?? true;
}

/// <summary>The ordered steps of one kind of onboarding.</summary>
public sealed class StepCatalogue
{
    private readonly Dictionary<string, StepDefinition> _byName;

    public StepCatalogue(OnboardingKind kind, IReadOnlyList<StepDefinition> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        Kind = kind;
        Steps = steps;
        _byName = steps.ToDictionary(s => s.Name, StringComparer.Ordinal);
    }

    public OnboardingKind Kind { get; }

    /// <summary>Every step of the kind, in order.</summary>
    public IReadOnlyList<StepDefinition> Steps { get; }

    /// <summary>The steps an onboarding with <paramref name="request"/> runs, in order.</summary>
    public IReadOnlyList<StepDefinition> For(OnboardingRequest request) => [.. Steps.Where(s => s.IsPartOf(request))];

    public StepDefinition Step(string name) =>
        _byName.TryGetValue(name, out var step) ? step : throw new InvalidOperationException($"No step {name} in the {Kind} catalogue.");

    /// <summary><c>connect</c>: discover, the replica steps with <c>--replica</c>, the network, the reader, the Prequel source.</summary>
    public static readonly StepCatalogue Connect = new(OnboardingKind.Connect,
    [
        new(StepNames.Discover, NeedsApproval: false, ReadsOnly: true),
        new(StepNames.CreateReplica, NeedsApproval: true, AppliesTo: r => r.Replica),
        new(StepNames.WaitReplica, NeedsApproval: false, AppliesTo: r => r.Replica),
        new(StepNames.PublicAccess, NeedsApproval: true),
        new(StepNames.SecurityGroup, NeedsApproval: true),
        new(StepNames.NetworkAcl, NeedsApproval: true),
        new(StepNames.CreateUser, NeedsApproval: true, Needs: StepNeeds.DatabaseAdmin),
        new(StepNames.VerifyAccess, NeedsApproval: false, Needs: StepNeeds.DatabaseAdmin),
        new(StepNames.RegisterSource, NeedsApproval: true, Needs: StepNeeds.DatabaseAdmin),
    ]);

    /// <summary>
    /// <c>disconnect</c>: undoes, from the change record of the database's connects, only what this bot created, in the
    /// reverse order of <c>connect</c>; each step that changes something asks first (docs/workflow.md, "Disconnect").
    /// </summary>
    public static readonly StepCatalogue Disconnect = new(OnboardingKind.Disconnect,
    [
        new(StepNames.UnregisterSource, NeedsApproval: true),
        new(StepNames.DropUser, NeedsApproval: true, Needs: StepNeeds.DatabaseAdmin),
        new(StepNames.CloseNetworkAcl, NeedsApproval: true),
        new(StepNames.CloseSecurityGroup, NeedsApproval: true),
        new(StepNames.RestorePublicAccess, NeedsApproval: true),
        new(StepNames.DeleteReplica, NeedsApproval: true),
    ]);

    /// <summary>
    /// <c>rotate</c>: a new generated password for the recorded role (kept encrypted until the recorded Prequel source holds
    /// it), the source updated, then the reader's access verified with the new password (docs/workflow.md, "Rotate").
    /// </summary>
    public static readonly StepCatalogue Rotate = new(OnboardingKind.Rotate,
    [
        new(StepNames.RotatePassword, NeedsApproval: true, Needs: StepNeeds.DatabaseAdmin),
        new(StepNames.UpdateSource, NeedsApproval: true),
        new(StepNames.VerifyAccess, NeedsApproval: false, Needs: StepNeeds.DatabaseAdmin),
    ]);

    /// <summary>Every catalogue, by kind.</summary>
    public static readonly IReadOnlyList<StepCatalogue> All = [Connect, Disconnect, Rotate];

    public static StepCatalogue Of(OnboardingKind kind) => All.First(c => c.Kind == kind);
}
