using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using static PrequelBot.Workflows.Tests.EngineFixture;

namespace PrequelBot.Workflows.Tests;

/// <summary>
/// The engine's guarantees (docs/workflow.md): a step runs on one worker however long it takes, an approval covers
/// exactly the change it showed and only while it is valid, cancel reaches a running step, and quorum prompts.
/// Two of them run in real time with a 1 s lease renewed every 250 ms, so the class runs alone (<see cref="RealTimeLeases"/>).
/// </summary>
[Collection(RealTimeLeases.Name)]
public sealed class EngineGuaranteeTests
{
    private static async Task<ApprovalPromptView> PromptForAsync(EngineFixture f, string id, string step)
    {
        for (var i = 0; i < 10 && f.Chat.PendingPrompt(id)?.Step != step; i++)
        {
            var prompt = f.Chat.PendingPrompt(id) ?? throw new InvalidOperationException($"no prompt before {step}");
            Assert.Equal(DecisionOutcome.Recorded, (await f.ClickAsync(id, Approver)).Outcome);
            await f.DrainAsync(includeDelayed: true);
            _ = prompt;
        }
        return f.Chat.PendingPrompt(id) ?? throw new InvalidOperationException($"no prompt for {step}");
    }

    private static Task Started(EngineFixture f, string step) =>
        f.World.ApplyStarted.GetOrAdd(step, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task.WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_step_longer_than_ten_leases_runs_once_while_its_heartbeat_renews_the_lease()
    {
        // Scaled down from production (2 min lease, 30 s heartbeat, a step of several minutes): a 1 s lease renewed every
        // 250 ms, and a step of 10 s, so the step outlives its lease ten times over while duplicates keep arriving.
        using var f = new EngineFixture(new() { ["Workflow:StepLease"] = "00:00:01" }, realTime: true);
        f.World.ApplyDurations[StepNames.PublicAccess] = TimeSpan.FromSeconds(10);
        var id = await f.ConnectAsync();
        var prompt = f.Chat.PendingPrompt(id)!;
        await f.Decider.DecideAsync(prompt.ApprovalId, Approver, true, CancellationToken.None);
        var runner = f.Services.GetRequiredService<StepRunner>();

        var first = Task.Run(() => runner.RunAsync(id, CancellationToken.None));
        await Started(f, StepNames.PublicAccess);
        var duplicates = 0;
        while (!first.IsCompleted)
        {
            // What a second node, a re-fetched Hangfire job and the reconciler would do meanwhile.
            await runner.RunAsync(id, CancellationToken.None);
            await f.Reconciler.ReconcileAsync(startup: false, CancellationToken.None);
            duplicates++;
            await Task.Delay(300);
        }
        await first;

        // A floor that shows the loop ran through the step, not a timing target: each duplicate run and reconciler pass
        // waits for SQLite's write lock against the heartbeat, so a loaded machine fits far fewer than 30 in 10 s.
        Assert.True(duplicates >= 5, $"only {duplicates} duplicate runs were tried");
        Assert.Equal(1, f.World.Applies[StepNames.PublicAccess]);
        Assert.Equal(1, f.World.EffectCount(FakeInfrastructure.EffectOf(StepNames.PublicAccess, (await f.LoadAsync(id)).Onboarding.Request)));
        Assert.Equal(StepState.Completed, (await f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        Assert.DoesNotContain(await f.Store.GetAuditAsync(id, CancellationToken.None), e => e.Action == "step-resumed");
    }

    /// <summary>
    /// An onboarding whose approved public-access step a worker claimed for <paramref name="lease"/>, then its node was
    /// killed: the job went with it and nobody renews the lease.
    /// </summary>
    private static async Task<(string Id, DateTimeOffset LeaseUntil)> ClaimedByADeadNodeAsync(EngineFixture f, TimeSpan lease)
    {
        var id = await f.ConnectAsync();
        await f.Decider.DecideAsync(f.Chat.PendingPrompt(id)!.ApprovalId, Approver, true, CancellationToken.None);
        f.Work.Pending.Clear();
        var leaseUntil = f.Clock.GetUtcNow() + lease;
        var updater = f.Services.GetRequiredService<OnboardingUpdater>();
        Assert.NotNull((await updater.UpdateAsync(id, a => a.Claim(StepNames.PublicAccess, "dead-node", leaseUntil, f.Clock.GetUtcNow()), CancellationToken.None)).Saved);
        return (id, leaseUntil);
    }

    [Fact]
    public async Task The_reconciler_names_the_moment_a_dead_workers_lease_lapses_and_takes_the_step_over_then()
    {
        using var f = new EngineFixture();
        var (id, leaseUntil) = await ClaimedByADeadNodeAsync(f, TimeSpan.FromSeconds(15));

        var before = await f.Reconciler.ReconcileAsync(startup: false, CancellationToken.None);
        f.Clock.Advance(TimeSpan.FromSeconds(15.5));
        var after = await f.Reconciler.ReconcileAsync(startup: false, CancellationToken.None);
        await f.DrainAsync();

        Assert.Equal((0, leaseUntil), (before.Redriven, before.NextDue));
        Assert.Equal(1, after.Redriven);
        Assert.Equal(1, f.World.Applies[StepNames.PublicAccess]);
        Assert.Equal(StepState.Completed, (await f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        Assert.Contains(await f.Store.GetAuditAsync(id, CancellationToken.None), e => e.Action == "step-resumed");
    }

    [Fact]
    public async Task The_lease_watch_takes_over_a_step_claimed_after_the_last_sweep_once_its_lease_lapses()
    {
        using var f = new EngineFixture();
        var (id, leaseUntil) = await ClaimedByADeadNodeAsync(f, TimeSpan.FromSeconds(10));
        Assert.Equal([id], await f.Store.ListIdsWithRunningStepAsync(CancellationToken.None));

        var live = await f.Reconciler.RedriveLapsedLeasesAsync(CancellationToken.None);
        f.Clock.Advance(TimeSpan.FromSeconds(10.5));
        var lapsed = await f.Reconciler.RedriveLapsedLeasesAsync(CancellationToken.None);
        await f.DrainAsync();

        Assert.Equal((0, leaseUntil), (live.Redriven, live.NextDue));
        Assert.Equal((1, (DateTimeOffset?)null), (lapsed.Redriven, lapsed.NextDue));
        Assert.Equal(1, f.World.Applies[StepNames.PublicAccess]);
        Assert.Equal(StepState.Completed, (await f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        Assert.Empty(await f.Store.ListIdsWithRunningStepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Approved_work_whose_job_was_lost_is_due_again_after_the_start_grace()
    {
        using var f = new EngineFixture(new() { ["Workflow:StartGrace"] = "00:00:05" });
        var id = await f.ConnectAsync();
        await f.Decider.DecideAsync(f.Chat.PendingPrompt(id)!.ApprovalId, Approver, true, CancellationToken.None);
        f.Work.Pending.Clear();
        var approvedAt = (await f.LoadAsync(id)).Onboarding.UpdatedAt;

        var early = await f.Reconciler.ReconcileAsync(startup: false, CancellationToken.None);
        f.Clock.Advance(TimeSpan.FromSeconds(6));
        var late = await f.Reconciler.ReconcileAsync(startup: false, CancellationToken.None);
        await f.DrainAsync();

        Assert.Equal((0, approvedAt + TimeSpan.FromSeconds(5)), (early.Redriven, early.NextDue));
        Assert.Equal(1, late.Redriven);
        Assert.Equal(StepState.Completed, (await f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
    }

    [Fact]
    public async Task A_rule_added_by_hand_between_the_prompt_and_the_click_makes_the_step_ask_again_and_apply_nothing()
    {
        using var f = new EngineFixture();
        f.World.StaticIps.AddRange(["35.192.85.117", "35.192.85.118"]);
        var id = await f.ConnectAsync();
        var stale = await PromptForAsync(f, id, StepNames.SecurityGroup);
        Assert.Equal(2, stale.Changes.Count);
        var group = FakeInfrastructure.EffectOf(StepNames.SecurityGroup, (await f.LoadAsync(id)).Onboarding.Request);

        f.World.PreExisting.Add($"{group}:35.192.85.118"); // someone opened the group for one IP meanwhile
        await f.ClickAsync(id, Approver);

        Assert.False(f.World.Applies.ContainsKey(StepNames.SecurityGroup));
        var again = f.Chat.PendingPrompt(id)!;
        Assert.NotEqual(stale.ApprovalId, again.ApprovalId);
        Assert.Equal([$"add inbound TCP 5432 from 35.192.85.117/32 to {group}"], again.Changes);
        var step = (await f.LoadAsync(id)).Step(StepNames.SecurityGroup);
        Assert.Equal(StepState.AwaitingApproval, step.State);
        Assert.StartsWith("the change differs from what was approved: no longer needed: add inbound TCP 5432 from 35.192.85.118/32", step.Detail);
        Assert.Contains("the change differs from what was approved", f.Chat.Cards[^1].ToText());

        await f.ClickAsync(id, Approver);
        Assert.Equal(1, f.World.Applies[StepNames.SecurityGroup]);
    }

    [Fact]
    public async Task A_change_that_lands_after_the_engines_check_but_before_the_handlers_first_call_is_not_applied()
    {
        using var f = new EngineFixture(realTime: true);
        f.World.StaticIps.AddRange(["35.192.85.117", "35.192.85.118"]);
        var id = await f.ConnectAsync();
        var stale = await PromptForAsync(f, id, StepNames.SecurityGroup);
        var group = FakeInfrastructure.EffectOf(StepNames.SecurityGroup, (await f.LoadAsync(id)).Onboarding.Request);
        var gate = f.World.ApplyGates.GetOrAdd(StepNames.SecurityGroup, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        var click = f.ClickAsync(id, Approver); // the engine re-plans, finds the approved plan, and calls Apply
        await Started(f, StepNames.SecurityGroup);
        f.World.PreExisting.Add($"{group}:35.192.85.118"); // the race: someone edits the group just now
        gate.SetResult();
        await click;
        await f.DrainAsync();

        Assert.Equal(0, f.World.EffectCount(group));
        var again = f.Chat.PendingPrompt(id)!;
        Assert.NotEqual(stale.ApprovalId, again.ApprovalId);
        Assert.Equal([$"add inbound TCP 5432 from 35.192.85.117/32 to {group}"], again.Changes);
        var step = (await f.LoadAsync(id)).Step(StepNames.SecurityGroup);
        Assert.Equal(StepState.AwaitingApproval, step.State);
        Assert.StartsWith("the change differs from what was approved: no longer needed: add inbound TCP 5432 from 35.192.85.118/32", step.Detail);
    }

    [Fact]
    public async Task A_static_ip_change_with_a_restart_in_between_asks_again_and_never_applies_the_stale_change()
    {
        using var f = new EngineFixture();
        f.World.StaticIps.Add("35.192.85.117");
        var id = await f.ConnectAsync();
        var stale = await PromptForAsync(f, id, StepNames.SecurityGroup);

        f.World.StaticIps[0] = "35.192.85.200"; // Prequel:StaticIps changed, and the bot restarted with it
        await f.RestartAsync();
        await f.DrainAsync();
        Assert.Equal(stale.ApprovalId, f.Chat.PendingPrompt(id)!.ApprovalId);
        await f.ClickAsync(id, Approver);

        Assert.False(f.World.Applies.ContainsKey(StepNames.SecurityGroup));
        var again = f.Chat.PendingPrompt(id)!;
        Assert.Single(again.Changes, c => c.Contains("35.192.85.200/32", StringComparison.Ordinal));
        Assert.DoesNotContain(again.Changes, c => c.Contains("35.192.85.117", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_approval_that_expired_after_a_crash_before_the_apply_is_not_used()
    {
        using var f = new EngineFixture();
        var id = await f.ConnectAsync();
        var prompt = f.Chat.PendingPrompt(id)!;
        await f.Decider.DecideAsync(prompt.ApprovalId, Approver, true, CancellationToken.None);

        f.Clock.Advance(TimeSpan.FromHours(2)); // the process died before the step job ran, and stayed down past the timeout
        await f.RestartAsync();
        await f.DrainAsync();

        Assert.False(f.World.Applies.ContainsKey(StepNames.PublicAccess));
        var again = f.Chat.PendingPrompt(id)!;
        Assert.NotEqual(prompt.ApprovalId, again.ApprovalId);
        Assert.Equal("the approval expired before the change was applied", (await f.LoadAsync(id)).Step(StepNames.PublicAccess).Detail);
    }

    [Fact]
    public async Task An_expired_approval_is_not_reused_by_an_identical_re_plan()
    {
        using var f = new EngineFixture();
        f.World.FailuresLeft[StepNames.PublicAccess] = 1;
        var id = await f.ConnectAsync();
        var first = f.Chat.PendingPrompt(id)!;
        await f.ClickAsync(id, Approver);
        Assert.Equal(OnboardingState.Failed, (await f.LoadAsync(id)).State);

        f.Clock.Advance(TimeSpan.FromHours(2));
        await f.SayAsync($"retry {id}");
        await f.DrainAsync();

        var again = f.Chat.PendingPrompt(id)!;
        Assert.NotEqual(first.ApprovalId, again.ApprovalId);
        Assert.Equal(first.Changes, again.Changes);
        Assert.Equal(1, f.World.Applies[StepNames.PublicAccess]);
        Assert.DoesNotContain(await f.Store.GetAuditAsync(id, CancellationToken.None), e => e.Action == "approval-reused");
    }

    [Fact]
    public async Task Cancel_during_a_running_step_stops_it_and_the_card_says_what_it_did()
    {
        using var f = new EngineFixture(new() { ["Workflow:StepLease"] = "00:00:01" });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.World.ApplyGates[StepNames.PublicAccess] = gate;
        var id = await f.ConnectAsync();
        var prompt = f.Chat.PendingPrompt(id)!;
        await f.Decider.DecideAsync(prompt.ApprovalId, Approver, true, CancellationToken.None);
        var running = Task.Run(() => f.Services.GetRequiredService<StepRunner>().RunAsync(id, CancellationToken.None));
        await Started(f, StepNames.PublicAccess);

        var reply = await f.SayAsync($"cancel {id}");
        Assert.Equal(OnboardingState.Cancelled, (await f.LoadAsync(id)).State); // at once, while the step still runs
        await running.WaitAsync(TimeSpan.FromSeconds(10)); // the heartbeat saw the cancel and fired the step's token
        await f.DrainAsync(includeDelayed: true);

        Assert.StartsWith($"Cancelled {id}. Changes already made stay in place; nothing more will change.", reply.Text);
        var agg = await f.LoadAsync(id);
        Assert.Equal(StepState.Cancelled, agg.Step(StepNames.PublicAccess).State);
        Assert.Contains("cancelled while public-access was running; it stopped before finishing", agg.Onboarding.Message);
        Assert.Contains("cancelled while public-access was running", f.Chat.Cards[^1].ToText());
        Assert.All(agg.Steps.Where(s => s.Ordinal > agg.Step(StepNames.PublicAccess).Ordinal), s => Assert.Equal(StepState.Cancelled, s.State));
        Assert.Equal(1, f.World.Applies.Values.Sum() - 1); // discover, then public-access once; nothing after it
    }

    [Fact]
    public async Task A_step_that_finishes_after_a_cancel_is_recorded_with_what_it_did_and_nothing_after_it_starts()
    {
        using var f = new EngineFixture();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        f.World.ApplyGates[StepNames.PublicAccess] = gate;
        var id = await f.ConnectAsync();
        await f.Decider.DecideAsync(f.Chat.PendingPrompt(id)!.ApprovalId, Approver, true, CancellationToken.None);
        var running = Task.Run(() => f.Services.GetRequiredService<StepRunner>().RunAsync(id, CancellationToken.None));
        await Started(f, StepNames.PublicAccess);

        await f.SayAsync($"cancel {id}");
        gate.SetResult(); // the step reaches its end before its next heartbeat
        await running;
        await f.DrainAsync(includeDelayed: true);

        var agg = await f.LoadAsync(id);
        Assert.Equal(StepState.Cancelled, agg.Step(StepNames.PublicAccess).State);
        Assert.Contains("cancelled while public-access was running; it finished: public:mydb-prod created", agg.Onboarding.Message);
        Assert.False(f.World.Applies.ContainsKey(StepNames.SecurityGroup));
    }

    [Fact]
    public async Task Plan_of_an_rds_id_that_is_no_alias_shows_the_aws_part_and_one_line_for_the_database_part()
    {
        using var f = new EngineFixture();

        var reply = await f.SayAsync("plan billing-prod");

        Assert.False(reply.IsError, reply.Text);
        Assert.Equal([StepNames.Discover, StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl], reply.Plan!.Steps.Select(s => s.Name));
        Assert.Equal("Not planned: create-user, verify-access, register-source need a configured database; add Databases:billing-prod:AdminConnectionString (a role that may CREATE ROLE and GRANT) to plan and connect them.", reply.Plan.Unplanned);
        Assert.EndsWith(reply.Plan.Unplanned!, reply.Text);
        Assert.Empty(f.World.Effects);
    }
}

/// <summary>
/// Tests whose leases are real time and scaled down to a second: they run alone, not beside the other test classes.
/// On two cores a parallel class can starve the heartbeat for longer than the lease; the lease then lapses as designed
/// and a duplicate takes the step over, which is the engine working and the test measuring the machine.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealTimeLeases
{
    public const string Name = "real-time leases";
}
