using PrequelBot.Workflows.Domain;

namespace PrequelBot.Workflows.Tests;

/// <summary>Every transition of <see cref="OnboardingAggregate"/>, allowed and refused (docs/architecture.md, "The state machine").</summary>
public sealed class AggregateTransitionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
    private static readonly ChatUser Rita = new(ChatPlatforms.Slack, "URITA", "rita");
    private static readonly ChatUser Alex = new(ChatPlatforms.Slack, "UALEX", "alex");
    private static readonly ChatUser Bo = new(ChatPlatforms.Slack, "UBO", "bo");
    private static readonly StepPlan Change = StepPlan.Change("make db public");

    private static OnboardingAggregate New(bool replica = false) => OnboardingAggregate.Start("ob-test0001",
        new OnboardingRequest { DatabaseAlias = "db", InstanceIdentifier = "db-prod", SourceName = "db", Replica = replica, ReplicaId = replica ? "db-replica" : null },
        Rita, new ConversationRef(ChatPlatforms.Slack, "C1"), "connect db", T0);

    private static PromptTerms Terms(string id = "ap-1", int required = 1) => new(id, required, T0.AddHours(1));

    /// <summary>discover done, public-access awaiting approval on prompt ap-1.</summary>
    private static OnboardingAggregate AtPrompt(int required = 1)
    {
        var a = New();
        a.RecordPlan(StepNames.Discover, StepPlan.Change("read"), new OnboardingFacts(), Terms(), T0);
        a.Claim(StepNames.Discover, "w", T0.AddMinutes(2), T0);
        a.FinishStep(StepNames.Discover, "w", new OnboardingFacts(), "read", T0);
        a.RecordPlan(StepNames.PublicAccess, Change, new OnboardingFacts(), Terms(required: required), T0);
        return a;
    }

    /// <summary>public-access running under lease "w".</summary>
    private static OnboardingAggregate Running()
    {
        var a = AtPrompt();
        a.Decide("ap-1", Alex, true, null, T0);
        a.Claim(StepNames.PublicAccess, "w", T0.AddMinutes(2), T0);
        return a;
    }

    [Fact]
    public void Start_makes_the_catalogue_steps_of_the_request_pending_in_planning()
    {
        Assert.Equal(OnboardingState.Planning, New().State);
        Assert.DoesNotContain(New().Steps, s => s.Name == StepNames.CreateReplica);
        Assert.Contains(New(replica: true).Steps, s => s.Name == StepNames.CreateReplica);
        Assert.All(New().Steps, s => Assert.Equal(StepState.Pending, s.State));
        Assert.Equal("onboarding-requested", Assert.Single(New().NewEvents).Action);
    }

    [Fact]
    public void A_plan_without_changes_is_already_in_place_and_without_approval_is_approved()
    {
        var a = New();
        Assert.Equal(FollowUp.RunStep, a.RecordPlan(StepNames.Discover, StepPlan.Change("read"), new OnboardingFacts(), Terms(), T0).FollowUp);
        Assert.Equal(StepState.Approved, a.Step(StepNames.Discover).State);
        Assert.Equal(OnboardingState.Running, a.State);

        var b = AtPrompt();
        Assert.Equal(StepState.AwaitingApproval, b.Step(StepNames.PublicAccess).State);
        Assert.Equal(OnboardingState.AwaitingApproval, b.State);
        Assert.Equal(Change.Hash(StepNames.PublicAccess), Assert.Single(b.Approvals).PlanHash);

        var c = New();
        c.RecordPlan(StepNames.Discover, StepPlan.AlreadyInPlace("nothing"), new OnboardingFacts { PrequelSourceId = "src" }, Terms(), T0);
        Assert.Equal(StepState.AlreadyInPlace, c.Step(StepNames.Discover).State);
        Assert.Equal("src", c.Onboarding.Facts.PrequelSourceId);
    }

    [Fact]
    public void Planning_is_refused_for_a_step_that_is_not_pending_or_not_current_or_a_finished_onboarding()
    {
        var a = AtPrompt();
        Assert.False(a.RecordPlan(StepNames.PublicAccess, Change, new OnboardingFacts(), Terms("ap-2"), T0).Changed);
        Assert.False(a.RecordPlan(StepNames.NetworkAcl, Change, new OnboardingFacts(), Terms("ap-2"), T0).Changed);
        a.Cancel(Rita, T0);
        Assert.False(a.RecordPlan(StepNames.PublicAccess, Change, new OnboardingFacts(), Terms("ap-2"), T0).Changed);
    }

    [Fact]
    public void An_approval_of_the_same_plan_is_reused_only_while_it_is_valid()
    {
        var a = Running();
        a.FailStep(StepNames.PublicAccess, "w", "boom", T0);
        a.Retry(Rita, T0);
        Assert.Equal(FollowUp.RunStep, a.RecordPlan(StepNames.PublicAccess, Change, new OnboardingFacts(), Terms("ap-2"), T0.AddMinutes(5)).FollowUp);
        Assert.Equal("ap-1", a.Step(StepNames.PublicAccess).ApprovalId);

        var b = Running();
        b.FailStep(StepNames.PublicAccess, "w", "boom", T0);
        b.Retry(Rita, T0);
        b.RecordPlan(StepNames.PublicAccess, Change, new OnboardingFacts(), Terms("ap-2"), T0.AddHours(2));
        Assert.Equal(StepState.AwaitingApproval, b.Step(StepNames.PublicAccess).State);
        Assert.Equal("ap-2", b.Approvals[^1].Id);
    }

    [Fact]
    public void Claim_takes_an_approved_step_or_a_lapsed_lease_but_not_a_live_one_or_a_prompt()
    {
        Assert.False(AtPrompt().Claim(StepNames.PublicAccess, "w", T0.AddMinutes(2), T0).Changed);
        var a = Running();
        Assert.Equal(StepState.Running, a.Step(StepNames.PublicAccess).State);
        Assert.False(a.Claim(StepNames.PublicAccess, "other", T0.AddMinutes(4), T0.AddMinutes(1)).Changed);
        Assert.True(a.Claim(StepNames.PublicAccess, "other", T0.AddMinutes(6), T0.AddMinutes(3)).Changed);
        Assert.Equal("other", a.Step(StepNames.PublicAccess).LeaseOwner);
        Assert.Contains(a.NewEvents, e => e.Action == "step-resumed");
    }

    [Fact]
    public void The_heartbeat_renews_only_its_own_lease_of_an_active_onboarding()
    {
        var a = Running();
        Assert.True(a.RenewLease(StepNames.PublicAccess, "w", T0.AddMinutes(9)).Changed);
        Assert.Equal(T0.AddMinutes(9), a.Step(StepNames.PublicAccess).LeaseUntil);
        Assert.False(a.RenewLease(StepNames.PublicAccess, "other", T0.AddMinutes(9)).Changed);
        a.Cancel(Rita, T0);
        Assert.False(a.RenewLease(StepNames.PublicAccess, "w", T0.AddMinutes(10)).Changed);
    }

    [Fact]
    public void Release_voids_a_running_lease_and_nothing_else()
    {
        var a = Running();
        Assert.True(a.ReleaseLease(StepNames.PublicAccess, T0).Changed);
        Assert.Null(a.Step(StepNames.PublicAccess).LeaseUntil);
        Assert.False(a.ReleaseLease(StepNames.PublicAccess, T0).Changed);
        Assert.False(AtPrompt().ReleaseLease(StepNames.PublicAccess, T0).Changed);
    }

    [Fact]
    public void Finish_wait_and_fail_need_the_lease()
    {
        foreach (var t in new Func<OnboardingAggregate, Transition>[]
        {
            a => a.FinishStep(StepNames.PublicAccess, "other", new OnboardingFacts(), "done", T0),
            a => a.WaitStep(StepNames.PublicAccess, "other", new OnboardingFacts(), "busy", TimeSpan.FromHours(1), TimeSpan.FromSeconds(15), T0),
            a => a.FailStep(StepNames.PublicAccess, "other", "boom", T0),
            a => a.StepError(StepNames.PublicAccess, "other", "IOException", 5, TimeSpan.FromSeconds(2), T0),
            a => a.ReAsk(StepNames.PublicAccess, "other", Change, new OnboardingFacts(), "drift", Terms("ap-2"), T0),
            a => a.StopAfterCancel(StepNames.PublicAccess, "other", "stopped", T0),
        })
        {
            Assert.False(t(Running()).Changed);
        }
    }

    [Fact]
    public void Finish_completes_the_step_and_the_last_one_completes_the_onboarding()
    {
        var a = Running();
        Assert.Equal(FollowUp.RunStep, a.FinishStep(StepNames.PublicAccess, "w", new OnboardingFacts(), "public", T0).FollowUp);
        Assert.Equal(StepState.Completed, a.Step(StepNames.PublicAccess).State);
        Assert.False(a.Complete(T0).Changed);
        var b = New();
        foreach (var s in b.Steps)
        {
            b.RecordPlan(s.Name, StepPlan.AlreadyInPlace(), new OnboardingFacts(), Terms(), T0);
        }
        Assert.True(b.Complete(T0).Changed);
        Assert.Equal(OnboardingState.Completed, b.State);
        Assert.True(b.SecretsToErase);
    }

    [Fact]
    public void Wait_schedules_a_recheck_and_fails_past_its_deadline()
    {
        var a = Running();
        var t = a.WaitStep(StepNames.PublicAccess, "w", new OnboardingFacts(), "modifying", TimeSpan.FromHours(1), TimeSpan.FromSeconds(15), T0);
        Assert.Equal((FollowUp.RunStepLater, TimeSpan.FromSeconds(15)), (t.FollowUp, t.Delay));
        Assert.Equal((StepState.Waiting, OnboardingState.Waiting), (a.Step(StepNames.PublicAccess).State, a.State));
        a.Claim(StepNames.PublicAccess, "w", T0.AddHours(3), T0.AddHours(2));
        a.WaitStep(StepNames.PublicAccess, "w", new OnboardingFacts(), "modifying", TimeSpan.FromHours(1), TimeSpan.FromSeconds(15), T0.AddHours(2));
        Assert.Equal(OnboardingState.Failed, a.State);
        Assert.False(a.SecretsToErase); // a failure is retried: the secrets stay
    }

    [Fact]
    public void Fail_fails_the_onboarding_and_keeps_its_secrets_for_retry()
    {
        var a = Running();
        a.Saved();
        a.FailStep(StepNames.PublicAccess, "w", "boom", T0);
        Assert.Equal((StepState.Failed, OnboardingState.Failed), (a.Step(StepNames.PublicAccess).State, a.State));
        Assert.False(a.SecretsToErase);
        Assert.False(AtPrompt().FailStep(StepNames.PublicAccess, null, "boom", T0).Changed);
    }

    [Fact]
    public void Errors_are_retried_until_the_limit_then_fail()
    {
        var a = Running();
        var t = a.StepError(StepNames.PublicAccess, "w", "IOException", 2, TimeSpan.FromSeconds(2), T0);
        Assert.Equal(FollowUp.RunStepLater, t.FollowUp);
        Assert.Equal(StepState.Approved, a.Step(StepNames.PublicAccess).State);
        a.Claim(StepNames.PublicAccess, "w", T0.AddMinutes(2), T0);
        a.StepError(StepNames.PublicAccess, "w", "IOException", 2, TimeSpan.FromSeconds(2), T0);
        Assert.Equal(OnboardingState.Failed, a.State);
    }

    [Fact]
    public void Decisions_approve_reject_and_refuse_and_a_settled_or_expired_prompt_takes_none()
    {
        var a = AtPrompt();
        Assert.True(a.Decide("ap-1", Bo, true, "not an approver", T0).Refused);
        Assert.Equal(ApprovalState.Pending, a.Approvals[0].State);
        Assert.Equal(FollowUp.RunApprovedStep, a.Decide("ap-1", Alex, true, null, T0).FollowUp);
        Assert.Equal((StepState.Approved, OnboardingState.Running), (a.Step(StepNames.PublicAccess).State, a.State));
        Assert.False(a.Decide("ap-1", Bo, false, null, T0).Changed);

        var b = AtPrompt();
        b.Decide("ap-1", Alex, false, null, T0);
        Assert.Equal((StepState.Rejected, OnboardingState.Rejected), (b.Step(StepNames.PublicAccess).State, b.State));
        Assert.True(b.SecretsToErase);

        Assert.False(AtPrompt().Decide("ap-1", Alex, true, null, T0.AddHours(1)).Changed);
    }

    [Fact]
    public void A_quorum_counts_distinct_people()
    {
        var a = AtPrompt(required: 2);
        Assert.Equal(FollowUp.None, a.Decide("ap-1", Alex, true, null, T0).FollowUp);
        Assert.False(a.Decide("ap-1", Alex, true, null, T0).Changed);
        Assert.Equal(StepState.AwaitingApproval, a.Step(StepNames.PublicAccess).State);
        Assert.Equal(FollowUp.RunApprovedStep, a.Decide("ap-1", Bo, true, null, T0).FollowUp);
        Assert.Equal([Alex, Bo], a.Approvals[0].Approvers);
    }

    [Fact]
    public void Cancel_ends_an_active_onboarding_at_once_and_leaves_a_running_step_to_its_worker()
    {
        var a = Running();
        Assert.True(a.Cancel(Rita, T0.AddSeconds(1)).Changed);
        Assert.Equal(OnboardingState.Cancelled, a.State);
        Assert.Equal(StepState.Running, a.Step(StepNames.PublicAccess).State);
        Assert.Equal(StepState.Cancelled, a.Step(StepNames.SecurityGroup).State);
        Assert.True(a.FinishStep(StepNames.PublicAccess, "w", new OnboardingFacts(), "public", T0).Changed);
        Assert.Equal(StepState.Cancelled, a.Step(StepNames.PublicAccess).State);
        Assert.EndsWith("It was cancelled while public-access was running; it finished: public", a.Onboarding.Message);
        Assert.False(a.Cancel(Rita, T0).Changed);

        var b = AtPrompt();
        b.Cancel(Rita, T0);
        Assert.Equal(ApprovalState.Cancelled, b.Approvals[0].State);
    }

    [Fact]
    public void Retry_resets_only_a_failed_onboarding()
    {
        Assert.False(AtPrompt().Retry(Rita, T0).Changed);
        var a = Running();
        a.FailStep(StepNames.PublicAccess, "w", "boom", T0);
        Assert.Equal(FollowUp.RunStep, a.Retry(Rita, T0).FollowUp);
        Assert.Equal((StepState.Pending, OnboardingState.Running), (a.Step(StepNames.PublicAccess).State, a.State));
    }

    [Fact]
    public void Expiry_cancels_an_onboarding_whose_prompt_lapsed_and_nothing_before()
    {
        var a = AtPrompt();
        Assert.False(a.ExpirePrompts(T0.AddMinutes(59)).Changed);
        Assert.True(a.ExpirePrompts(T0.AddHours(1)).Changed);
        Assert.Equal((ApprovalState.Expired, OnboardingState.Cancelled), (a.Approvals[0].State, a.State));
        Assert.False(a.ExpirePrompts(T0.AddHours(2)).Changed);
    }

    [Fact]
    public void ReAsk_applies_nothing_and_posts_a_new_prompt_or_finds_the_change_in_place()
    {
        var a = Running();
        a.ReAsk(StepNames.PublicAccess, "w", StepPlan.Change("other change"), new OnboardingFacts(), "the change differs from what was approved: x", Terms("ap-2"), T0);
        Assert.Equal((StepState.AwaitingApproval, OnboardingState.AwaitingApproval), (a.Step(StepNames.PublicAccess).State, a.State));
        Assert.Equal(["other change"], a.Approvals[^1].Changes);
        Assert.Equal("the change differs from what was approved: x", a.Step(StepNames.PublicAccess).Detail);

        var b = Running();
        b.ReAsk(StepNames.PublicAccess, "w", StepPlan.AlreadyInPlace("done by hand"), new OnboardingFacts(), "drift", Terms("ap-2"), T0);
        Assert.Equal(StepState.AlreadyInPlace, b.Step(StepNames.PublicAccess).State);
    }
}
