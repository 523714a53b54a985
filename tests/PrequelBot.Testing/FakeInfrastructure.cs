using System.Collections.Concurrent;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Testing;

/// <summary>
/// An in-memory stand-in for AWS, the source database and Prequel, with one <see cref="IStepHandler"/> per step.
/// Effects are sets (so a re-applied step creates nothing twice) and every effect creation is counted, so tests
/// can assert "applied exactly once". Failures and waits can be scripted per step.
/// </summary>
public sealed class FakeInfrastructure
{
    /// <summary>Effects that exist, e.g. "sg-rule:ob-1", "role:prequel_reader".</summary>
    public ConcurrentDictionary<string, int> Effects { get; } = new();

    /// <summary>How many times each step's Apply ran.</summary>
    public ConcurrentDictionary<string, int> Applies { get; } = new();

    /// <summary>Steps that throw <see cref="StepFailedException"/> this many more times.</summary>
    public ConcurrentDictionary<string, int> FailuresLeft { get; } = new();

    /// <summary>Steps that throw an unexpected exception this many more times.</summary>
    public ConcurrentDictionary<string, int> ErrorsLeft { get; } = new();

    /// <summary>How many re-checks <c>wait-replica</c> answers "still creating" before the replica is available.</summary>
    public int ReplicaChecksBeforeAvailable { get; set; }

    /// <summary>Effects considered present before the onboarding (e.g. a covering security group rule).</summary>
    public HashSet<string> PreExisting { get; } = [];

    /// <summary>Optional gate: Apply of the named step waits for this before acting (to crash a host mid-step).</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> ApplyGates { get; } = new();

    /// <summary>Signalled when Apply of a step starts.</summary>
    public ConcurrentDictionary<string, TaskCompletionSource> ApplyStarted { get; } = new();

    /// <summary>
    /// Prequel's static IPs as the fake security-group step sees them: with any, it plans one rule per IP whose
    /// <c>{effect}:{ip}</c> is not present (e.g. added by hand in <see cref="PreExisting"/>); empty = one change for the group.
    /// </summary>
    public List<string> StaticIps { get; } = [];

    /// <summary>How long Apply of a step takes (it watches its CancellationToken meanwhile).</summary>
    public ConcurrentDictionary<string, TimeSpan> ApplyDurations { get; } = new();

    public int EffectCount(string key) => Effects.GetValueOrDefault(key);

    /// <summary>One handler per step of every catalogue.</summary>
    public IEnumerable<IStepHandler> Handlers() => StepCatalogue.All.SelectMany(c => c.Steps).Select(s => s.Name).Distinct().Select(name => (IStepHandler)new Handler(this, name));

    /// <summary>The effect a step creates for a request.</summary>
    public static string EffectOf(string step, OnboardingRequest request) => step switch
    {
        StepNames.CreateReplica => $"replica:{request.ReplicaId}",
        StepNames.PublicAccess => $"public:{request.TargetInstanceIdentifier}",
        StepNames.SecurityGroup => $"sg-rule:{request.TargetInstanceIdentifier}",
        StepNames.NetworkAcl => $"acl-entry:{request.TargetInstanceIdentifier}",
        StepNames.CreateUser => $"role:{request.UserName}@{request.InstanceIdentifier}",
        StepNames.RegisterSource => $"prequel-source:{request.SourceName}",
        _ when UndoneBy(step) is { } undone => EffectOf(undone, request),
        _ => "",
    };

    /// <summary>The connect step whose effect a disconnect step removes (null for any other step).</summary>
    public static string? UndoneBy(string step) => step switch
    {
        StepNames.UnregisterSource => StepNames.RegisterSource,
        StepNames.DropUser => StepNames.CreateUser,
        StepNames.CloseNetworkAcl => StepNames.NetworkAcl,
        StepNames.CloseSecurityGroup => StepNames.SecurityGroup,
        StepNames.RestorePublicAccess => StepNames.PublicAccess,
        StepNames.DeleteReplica => StepNames.CreateReplica,
        _ => null,
    };

    private bool Exists(string effect) => Effects.ContainsKey(effect) || PreExisting.Contains(effect);

    private StepPlan SecurityGroupPlan(string effect)
    {
        var missing = StaticIps.Where(ip => !Exists(effect) && !Exists($"{effect}:{ip}")).ToList();
        return missing.Count == 0
            ? StepPlan.AlreadyInPlace($"{effect} admits every static IP")
            : StepPlan.Change(missing.Select(ip => $"add inbound TCP 5432 from {ip}/32 to {effect}"));
    }

    private sealed class Handler(FakeInfrastructure world, string step) : IStepHandler
    {
        public string StepName => step;

        public Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
        {
            var effect = EffectOf(step, context.Request);
            return Task.FromResult(step switch
            {
                StepNames.Discover => StepPlan.Change($"Read DB instance {context.Request.InstanceIdentifier}"),
                StepNames.WaitReplica => StepPlan.Change($"Wait until {context.Request.ReplicaId} is available"),
                StepNames.VerifyAccess => StepPlan.Change($"Log in as {context.Request.UserName}"),
                StepNames.RotatePassword => StepPlan.Change($"new password for {context.Request.UserName}"),
                StepNames.UpdateSource => StepPlan.Change($"update the password of {context.Facts.Changes.PrequelSourceId ?? context.Facts.PrequelSourceId}"),
                StepNames.SecurityGroup when world.StaticIps.Count > 0 => world.SecurityGroupPlan(effect),
                // disconnect: only what the fake connect created (never a pre-existing effect) is removed.
                _ when UndoneBy(step) is not null => world.Effects.ContainsKey(effect) ? StepPlan.Change($"remove {effect}") : StepPlan.AlreadyInPlace($"{effect} is not PrequelBot's or is gone"),
                _ when world.Exists(effect) => StepPlan.AlreadyInPlace($"{effect} exists"),
                _ => StepPlan.Change($"create {effect}", step == StepNames.RegisterSource ? "Prequel environment: staging" : null),
            });
        }

        public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
        {
            world.Applies.AddOrUpdate(step, 1, (_, n) => n + 1);
            world.ApplyStarted.GetOrAdd(step, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            if (world.ApplyGates.TryGetValue(step, out var gate)) await gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (world.ApplyDurations.TryGetValue(step, out var duration)) await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
            if (Take(world.FailuresLeft)) throw new StepFailedException($"{step} failed on purpose");
            if (Take(world.ErrorsLeft)) throw new InvalidOperationException($"{step} hit a transient error");

            if (step == StepNames.SecurityGroup && world.StaticIps.Count > 0)
            {
                // Like the AWS handler: re-plan from live state just before the first change, and apply only the approved plan.
                context.EnsureApproved(world.SecurityGroupPlan(EffectOf(step, context.Request)));
            }

            switch (step)
            {
                case StepNames.Discover:
                    var source = new DatabaseFacts { InstanceIdentifier = context.Request.InstanceIdentifier, Engine = "postgres", EndpointAddress = $"{context.Request.InstanceIdentifier}.example.internal", Port = 5432 };
                    context.Facts.Source = source;
                    context.Facts.Target = context.Request.Replica ? null : source;
                    return StepResult.Done("postgres 16, private");
                case StepNames.WaitReplica:
                    if (context.Attempt <= world.ReplicaChecksBeforeAvailable) return StepResult.Wait($"replica {context.Request.ReplicaId} is creating");
                    context.Facts.Target = new DatabaseFacts { InstanceIdentifier = context.Request.ReplicaId!, Engine = "postgres", EndpointAddress = $"{context.Request.ReplicaId}.example.internal", Status = "available" };
                    return StepResult.Done("replica available");
                case StepNames.VerifyAccess:
                    return world.Exists(EffectOf(StepNames.CreateUser, context.Request))
                        ? StepResult.Done("public: 2 tables readable")
                        : StepResult.Failed("the user does not exist");
                case StepNames.RotatePassword or StepNames.UpdateSource:
                    world.Effects.AddOrUpdate($"{step}:{context.OnboardingId}", 1, (_, n) => n + 1);
                    return StepResult.Done($"{step} done");
                case var _ when UndoneBy(step) is not null:
                    world.Effects.TryRemove(EffectOf(step, context.Request), out _);
                    return StepResult.Done($"{EffectOf(step, context.Request)} removed");
                default:
                    var effect = EffectOf(step, context.Request);
                    if (!world.Exists(effect)) world.Effects.AddOrUpdate(effect, 1, (_, n) => n + 1);
                    if (step == StepNames.RegisterSource)
                    {
                        context.Facts.PrequelSourceId = "src-" + context.Request.SourceName;
                        context.Facts.Changes.SetSource(context.Facts.PrequelSourceId, created: true);
                    }
                    if (step == StepNames.CreateUser) context.Facts.Changes.SetRole(context.Request.UserName, created: true);
                    return StepResult.Done($"{effect} created");
            }
        }

        private bool Take(ConcurrentDictionary<string, int> counters)
        {
            while (counters.TryGetValue(step, out var left) && left > 0)
            {
                if (counters.TryUpdate(step, left - 1, left)) return true;
            }
            return false;
        }
    }
}
