using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Testing;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using static PrequelBot.Workflows.Tests.EngineFixture;

namespace PrequelBot.Workflows.Tests;

public sealed class OnboardingWorkflowTests : IDisposable
{
    private readonly EngineFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task Connect_runs_every_step_through_its_approval_to_completed()
    {
        var id = await _f.ConnectAsync();

        var approved = await _f.ApproveAllAsync(id);

        Assert.Equal([StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource], approved);
        var agg = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Completed, agg.Onboarding.State);
        Assert.All(agg.Steps, s => Assert.Equal(StepState.Completed, s.State));
        Assert.Equal([.. StepCatalogue.Connect.For(agg.Onboarding.Request).Select(s => s.Name)], agg.Steps.Select(s => s.Name));
        Assert.Equal("src-mydb", agg.Onboarding.Facts.PrequelSourceId);
        foreach (var step in approved) Assert.Equal(1, _f.World.EffectCount(FakeInfrastructure.EffectOf(step, agg.Onboarding.Request)));
        Assert.Equal("mydb-prod", agg.Onboarding.Request.InstanceIdentifier);
    }

    [Fact]
    public async Task Chat_shows_one_card_kept_current_and_each_prompt_updated_with_the_decider()
    {
        var id = await _f.ConnectAsync();
        await _f.ApproveAllAsync(id);

        var card = Assert.Single(_f.Chat.Cards);
        Assert.Equal(OnboardingStates.Completed, card.State);
        Assert.Equal(1, _f.Chat.Calls.Count(c => c == "post-card"));
        Assert.True(_f.Chat.Calls.Count(c => c == "update-card") >= 5);
        Assert.Equal(5, _f.Chat.Prompts.Count);
        Assert.All(_f.Chat.Prompts, p =>
        {
            Assert.Equal(ApprovalStates.Approved, p.State);
            Assert.Equal(Approver.Id, p.DecidedBy?.Id);
            Assert.NotNull(p.DecidedAt);
            Assert.NotEmpty(p.Changes);
        });
    }

    [Fact]
    public async Task Every_transition_is_in_the_audit_trail_with_actor_and_time()
    {
        var id = await _f.ConnectAsync();
        await _f.ApproveAllAsync(id);

        var audit = await _f.Store.GetAuditAsync(id, CancellationToken.None);

        Assert.Equal("onboarding-requested", audit[0].Action);
        Assert.Contains(Requester.Id, audit[0].Actor, StringComparison.Ordinal);
        Assert.Equal(5, audit.Count(e => e.Action == "approved" && e.Actor.Contains(Approver.Id, StringComparison.Ordinal)));
        Assert.Equal(5, audit.Count(e => e.Action == "approval-requested"));
        Assert.Equal(7, audit.Count(e => e.Action == "step-completed"));
        Assert.Equal("onboarding-completed", audit[^1].Action);
        Assert.All(audit, e => Assert.NotEqual(default, e.At));
    }

    [Fact]
    public async Task The_replica_path_waits_with_scheduled_rechecks_and_then_targets_the_replica()
    {
        _f.World.ReplicaChecksBeforeAvailable = 2;
        var id = await _f.ConnectAsync("connect mydb --replica");
        var first = await _f.ClickAsync(id, Approver);
        Assert.Equal(DecisionOutcome.Recorded, first.Outcome);

        var waiting = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Waiting, waiting.Onboarding.State);
        Assert.Equal(StepState.Waiting, waiting.Step(StepNames.WaitReplica).State);
        Assert.Contains("creating", waiting.Step(StepNames.WaitReplica).Detail, StringComparison.Ordinal);
        var recheck = Assert.Single(_f.Work.Pending, w => w.Kind == "step-later");
        Assert.InRange(recheck.Delay, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));

        await _f.ApproveAllAsync(id);

        var done = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Completed, done.Onboarding.State);
        Assert.Equal("mydb-prod-prequel-replica", done.Onboarding.Facts.Target?.InstanceIdentifier);
        Assert.Equal(1, _f.World.EffectCount("replica:mydb-prod-prequel-replica"));
        Assert.Equal(1, _f.World.EffectCount("sg-rule:mydb-prod-prequel-replica"));
        Assert.Equal(3, _f.World.Applies[StepNames.WaitReplica]);
    }

    [Fact]
    public async Task A_recheck_that_finds_the_replica_still_creating_asks_chat_for_nothing()
    {
        _f.World.ReplicaChecksBeforeAvailable = 3;
        var id = await _f.ConnectAsync("connect mydb --replica");
        await _f.ClickAsync(id, Approver);
        var version = (await _f.LoadAsync(id)).Onboarding.ChatVersion;
        var before = _f.Work.History.Count(w => w.Kind == "chat" && w.OnboardingId == id);

        // One re-check: claim (the card keeps showing it waiting) → still creating, same detail → wait again: chat has nothing new.
        Assert.True(_f.Work.Pending.TryDequeue(out var recheck) && recheck.Kind == "step-later", "a re-check is scheduled");
        _f.Clock.Advance(recheck!.Delay);
        await _f.Services.GetRequiredService<PrequelBot.Workflows.Engine.StepRunner>().RunAsync(id, CancellationToken.None);

        var after = await _f.LoadAsync(id);
        Assert.Equal(StepState.Waiting, after.Step(StepNames.WaitReplica).State);
        Assert.Equal(2, _f.World.Applies[StepNames.WaitReplica]);
        Assert.Equal(before, _f.Work.History.Count(w => w.Kind == "chat" && w.OnboardingId == id));
        Assert.Equal(version, after.Onboarding.ChatVersion);
        Assert.Single(_f.Work.Pending, w => w.Kind == "step-later"); // the next re-check is scheduled all the same
    }

    [Fact]
    public async Task A_wait_that_outlasts_its_timeout_fails_the_step()
    {
        using var f = new EngineFixture(new() { ["Workflow:WaitTimeout"] = "00:01:00" });
        f.World.ReplicaChecksBeforeAvailable = 1000;
        var id = await f.ConnectAsync("connect mydb --replica");
        await f.ClickAsync(id, Approver);

        for (var i = 0; i < 10; i++) await f.DrainAsync(includeDelayed: true);

        var agg = await f.LoadAsync(id);
        Assert.Equal(OnboardingState.Failed, agg.Onboarding.State);
        Assert.Contains("gave up after waiting", agg.Step(StepNames.WaitReplica).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reject_ends_the_onboarding_without_changes()
    {
        var id = await _f.ConnectAsync();

        var result = await _f.ClickAsync(id, Approver, approve: false);

        Assert.Equal(DecisionOutcome.Recorded, result.Outcome);
        var agg = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Rejected, agg.Onboarding.State);
        Assert.Equal(StepState.Rejected, agg.Step(StepNames.PublicAccess).State);
        Assert.Empty(_f.World.Effects);
        Assert.False(_f.World.Applies.ContainsKey(StepNames.PublicAccess));
        Assert.Equal(ApprovalStates.Rejected, Assert.Single(_f.Chat.Prompts).State);
    }

    [Fact]
    public async Task Cancel_stops_the_onboarding_and_cancels_its_pending_prompt()
    {
        var id = await _f.ConnectAsync();

        var reply = await _f.SayAsync($"cancel {id}");
        await _f.DrainAsync();

        Assert.False(reply.IsError, reply.Text);
        var agg = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Cancelled, agg.Onboarding.State);
        Assert.Equal(ApprovalStates.Cancelled, Assert.Single(_f.Chat.Prompts).State);
        var late = await _f.Decider.DecideAsync(agg.Approvals[0].Id, Approver, true, CancellationToken.None);
        Assert.Equal(DecisionOutcome.AlreadyDecided, late.Outcome);
        Assert.Empty(_f.World.Effects);
    }

    [Fact]
    public async Task A_stranger_cannot_cancel()
    {
        var id = await _f.ConnectAsync();

        var reply = await _f.SayAsync($"cancel {id}", Stranger);

        Assert.True(reply.IsError);
        Assert.Contains("Not allowed", reply.Text, StringComparison.Ordinal);
        Assert.Equal(OnboardingState.AwaitingApproval, (await _f.LoadAsync(id)).Onboarding.State);
    }

    [Fact]
    public async Task Retry_after_a_failing_step_reruns_it_and_finishes()
    {
        _f.World.FailuresLeft[StepNames.SecurityGroup] = 1;
        var id = await _f.ConnectAsync();
        await _f.ApproveAllAsync(id);
        var failed = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Failed, failed.Onboarding.State);
        Assert.Equal(StepState.Failed, failed.Step(StepNames.SecurityGroup).State);
        Assert.Contains("failed on purpose", failed.Onboarding.Message, StringComparison.Ordinal);
        Assert.Contains($"retry {id}", failed.Onboarding.Message, StringComparison.Ordinal);

        var reply = await _f.SayAsync($"retry {id}");
        await _f.ApproveAllAsync(id);

        Assert.False(reply.IsError, reply.Text);
        var done = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Completed, done.Onboarding.State);
        Assert.Equal(1, _f.World.EffectCount("sg-rule:mydb-prod"));
        // The approver already approved exactly this change: the retry does not ask again.
        Assert.Equal(5, _f.Chat.Prompts.Count);
    }

    [Fact]
    public async Task Retry_is_refused_unless_the_onboarding_failed()
    {
        var id = await _f.ConnectAsync();

        var reply = await _f.SayAsync($"retry {id}");

        Assert.True(reply.IsError);
        Assert.Contains("only a failed onboarding", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transient_errors_are_retried_with_backoff_and_then_succeed()
    {
        _f.World.ErrorsLeft[StepNames.NetworkAcl] = 2;
        var id = await _f.ConnectAsync();

        await _f.ApproveAllAsync(id);

        Assert.Equal(OnboardingState.Completed, (await _f.LoadAsync(id)).Onboarding.State);
        Assert.Equal(3, _f.World.Applies[StepNames.NetworkAcl]);
        Assert.Equal(1, _f.World.EffectCount("acl-entry:mydb-prod"));
    }

    [Fact]
    public async Task Too_many_transient_errors_fail_the_step_without_leaking_the_exception_message()
    {
        _f.World.ErrorsLeft[StepNames.PublicAccess] = 100;
        var id = await _f.ConnectAsync();

        await _f.ApproveAllAsync(id);

        var agg = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Failed, agg.Onboarding.State);
        Assert.Contains("InvalidOperationException", agg.Step(StepNames.PublicAccess).Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("transient error", agg.Onboarding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Self_approval_is_refused_by_default_and_changes_nothing()
    {
        var requesterApprover = Approver;
        var id = (await _f.SayAsync("connect mydb", requesterApprover)).StartedOnboardingId!;
        await _f.DrainAsync();

        var result = await _f.ClickAsync(id, requesterApprover);

        Assert.Equal(DecisionOutcome.NotAllowed, result.Outcome);
        Assert.Contains("self-approval", result.Message, StringComparison.Ordinal);
        Assert.Equal(OnboardingState.AwaitingApproval, (await _f.LoadAsync(id)).Onboarding.State);
        Assert.NotNull(_f.Chat.PendingPrompt(id));
    }

    [Fact]
    public async Task Self_approval_works_when_allowed()
    {
        using var f = new EngineFixture(new() { ["Approvals:AllowSelfApproval"] = "true" });
        var id = (await f.SayAsync("connect mydb", Approver)).StartedOnboardingId!;
        await f.DrainAsync();

        var result = await f.ClickAsync(id, Approver);

        Assert.Equal(DecisionOutcome.Recorded, result.Outcome);
    }

    [Fact]
    public async Task A_non_approver_is_refused_and_nothing_changes()
    {
        var id = await _f.ConnectAsync();

        var result = await _f.ClickAsync(id, Stranger);

        Assert.Equal(DecisionOutcome.NotAllowed, result.Outcome);
        Assert.Contains("Approvals:Approvers", result.Message, StringComparison.Ordinal);
        Assert.Equal(StepState.AwaitingApproval, (await _f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        Assert.Empty(_f.World.Effects);
    }

    [Fact]
    public async Task A_double_click_is_harmless_and_the_first_decision_wins()
    {
        var id = await _f.ConnectAsync();
        var prompt = _f.Chat.PendingPrompt(id)!;

        var first = await _f.Decider.DecideAsync(prompt.ApprovalId, Approver, true, CancellationToken.None);
        var second = await _f.Decider.DecideAsync(prompt.ApprovalId, new ChatUser(ChatPlatforms.Slack, "UAPPROVER2", "b"), false, CancellationToken.None);
        await _f.DrainAsync();

        Assert.Equal(DecisionOutcome.Recorded, first.Outcome);
        Assert.Equal(DecisionOutcome.AlreadyDecided, second.Outcome);
        Assert.Contains("already approved", second.Message, StringComparison.Ordinal);
        var agg = await _f.LoadAsync(id);
        Assert.Equal(StepState.Completed, agg.Step(StepNames.PublicAccess).State);
        Assert.Equal(1, _f.World.Applies[StepNames.PublicAccess]);
    }

    [Fact]
    public async Task An_unanswered_prompt_expires_and_the_onboarding_is_cancelled()
    {
        var id = await _f.ConnectAsync();

        _f.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await _f.Reconciler.ReconcileAsync(startup: false, CancellationToken.None);
        await _f.DrainAsync();

        var agg = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Cancelled, agg.Onboarding.State);
        Assert.Equal(ApprovalState.Expired, Assert.Single(agg.Approvals).State);
        Assert.Contains("expired", agg.Onboarding.Message, StringComparison.Ordinal);
        Assert.Equal(ApprovalStates.Expired, Assert.Single(_f.Chat.Prompts).State);
        var late = await _f.Decider.DecideAsync(agg.Approvals[0].Id, Approver, true, CancellationToken.None);
        Assert.Equal(DecisionOutcome.AlreadyDecided, late.Outcome);
    }

    [Fact]
    public async Task A_second_connect_of_the_same_database_is_refused_while_one_is_active()
    {
        var id = await _f.ConnectAsync();

        var reply = await _f.SayAsync("connect mydb --user other_reader");

        Assert.True(reply.IsError);
        Assert.Contains(id, reply.Text, StringComparison.Ordinal);
        Assert.Single(await _f.Store.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task A_database_can_be_connected_again_after_its_onboarding_finished()
    {
        var id = await _f.ConnectAsync();
        await _f.SayAsync($"cancel {id}");

        var again = await _f.SayAsync("connect mydb");

        Assert.False(again.IsError, again.Text);
    }

    [Fact]
    public async Task Steps_already_in_place_ask_nothing()
    {
        _f.World.PreExisting.Add("sg-rule:mydb-prod");
        _f.World.PreExisting.Add("public:mydb-prod");
        var id = await _f.ConnectAsync();

        var approved = await _f.ApproveAllAsync(id);

        Assert.Equal([StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource], approved);
        var agg = await _f.LoadAsync(id);
        Assert.Equal(StepState.AlreadyInPlace, agg.Step(StepNames.SecurityGroup).State);
        Assert.Equal(StepState.AlreadyInPlace, agg.Step(StepNames.PublicAccess).State);
        Assert.Equal(0, _f.World.EffectCount("sg-rule:mydb-prod"));
        Assert.Equal(OnboardingState.Completed, agg.Onboarding.State);
    }

    [Fact]
    public async Task An_unknown_database_is_refused_with_the_configured_ones()
    {
        var reply = await _f.SayAsync("connect nosuchdb");

        Assert.True(reply.IsError);
        Assert.Contains("mydb", reply.Text, StringComparison.Ordinal);
        Assert.Empty(await _f.Store.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
    }

    [Fact]
    public async Task Bad_command_text_gets_one_line_and_starts_nothing()
    {
        var reply = await _f.SayAsync("connect mydb --user \"x; DROP ROLE postgres\"");

        Assert.True(reply.IsError);
        Assert.DoesNotContain('\n', reply.Text);
        Assert.Empty(await _f.Store.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
        Assert.Empty(_f.Work.History);
    }

    [Fact]
    public async Task Plan_shows_every_change_and_changes_nothing()
    {
        var reply = await _f.SayAsync("plan mydb");

        Assert.False(reply.IsError, reply.Text);
        Assert.NotNull(reply.Plan);
        Assert.Contains(reply.Plan!.Steps, s => s.Name == StepNames.SecurityGroup && s.Changes.Count == 1);
        Assert.Contains("create sg-rule:mydb-prod", reply.Text, StringComparison.Ordinal);
        Assert.Empty(_f.World.Effects);
        Assert.Empty(await _f.Store.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
        Assert.Empty(_f.Work.History);
    }

    [Fact]
    public async Task Status_lists_onboardings_and_shows_one_checklist()
    {
        var id = await _f.ConnectAsync();

        var list = await _f.SayAsync("status");
        var one = await _f.SayAsync($"status {id}");
        var missing = await _f.SayAsync("status ob-zzzz9999");

        Assert.Contains(id, list.Text, StringComparison.Ordinal);
        Assert.Equal(id, Assert.Single(list.Onboardings!).OnboardingId);
        Assert.Equal(OnboardingStates.AwaitingApproval, one.Checklist!.State);
        Assert.Contains("awaiting approval", one.Text, StringComparison.Ordinal);
        Assert.True(missing.IsError);
    }

    [Fact]
    public async Task Status_hands_out_one_reply_while_the_listing_is_unchanged_and_a_new_one_after_a_write()
    {
        var first = await _f.ConnectAsync();

        var listed = await _f.SayAsync("status");
        var again = await _f.SayAsync("status");
        var second = await _f.ConnectAsync("connect other");
        var after = await _f.SayAsync("status");

        // The same instance: a chat adapter serves it as already rendered (docs/architecture.md, "The status fast path").
        Assert.Same(listed, again);
        Assert.NotSame(listed, after);
        Assert.Equal(first, Assert.Single(listed.Onboardings!).OnboardingId);
        Assert.Equal(new[] { first, second }.Order(), after.Onboardings!.Select(o => o.OnboardingId).Order());
    }

    [Fact]
    public async Task Status_and_help_schedule_no_work()
    {
        var help = await _f.SayAsync("help");
        await _f.SayAsync("status");

        Assert.Contains("connect", help.Text, StringComparison.Ordinal);
        Assert.Empty(_f.Work.History);
    }

    [Fact]
    public async Task A_rate_limited_chat_delivery_is_retried_later_without_blocking_the_steps()
    {
        _f.Chat.RateLimitedCalls = 1;
        var id = await _f.ConnectAsync();

        Assert.Contains(_f.Work.History, w => w.Kind == "chat-later");
        Assert.Equal(StepState.AwaitingApproval, (await _f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        await _f.DrainAsync();
        Assert.Single(_f.Chat.Cards);
        Assert.NotNull(_f.Chat.PendingPrompt(id));
    }

    [Fact]
    public async Task Lost_jobs_are_redriven_by_the_reconciler()
    {
        var id = (await _f.SayAsync("connect mydb")).StartedOnboardingId!;
        _f.Work.Pending.Clear(); // the in-memory queue is gone, as after a restart

        var redriven = (await _f.Reconciler.ReconcileAsync(startup: true, CancellationToken.None)).Redriven;
        await _f.DrainAsync();

        Assert.Equal(1, redriven);
        Assert.Equal(StepState.AwaitingApproval, (await _f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        Assert.NotNull(_f.Chat.PendingPrompt(id));
    }

    [Fact]
    public async Task Two_workers_running_the_same_step_apply_it_once()
    {
        var id = await _f.ConnectAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _f.World.ApplyGates[StepNames.PublicAccess] = gate;
        var prompt = _f.Chat.PendingPrompt(id)!;
        await _f.Decider.DecideAsync(prompt.ApprovalId, Approver, true, CancellationToken.None);
        var runner = _f.Services.GetRequiredService<Engine.StepRunner>();

        var first = runner.RunAsync(id, CancellationToken.None);
        await _f.World.ApplyStarted[StepNames.PublicAccess].Task.WaitAsync(TimeSpan.FromSeconds(10));
        await runner.RunAsync(id, CancellationToken.None); // a duplicate job while the first holds the lease
        gate.SetResult();
        await first;

        Assert.Equal(1, _f.World.Applies[StepNames.PublicAccess]);
        Assert.Equal(StepState.Completed, (await _f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
    }
}
