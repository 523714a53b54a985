using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;
using static PrequelBot.Workflows.Tests.EngineFixture;

namespace PrequelBot.Workflows.Tests;

/// <summary><c>Approvals:Steps:&lt;step&gt;:Required</c>: distinct approvers per step (docs/workflow.md, "Approvals").</summary>
public sealed class QuorumTests : IDisposable
{
    private static readonly ChatUser Second = new(ChatPlatforms.Slack, "UAPPROVER2", "bo");

    private readonly EngineFixture _f = new(new() { ["Approvals:Steps:public-access:Required"] = "2" });

    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task One_approval_of_two_leaves_the_step_unapplied_and_the_prompt_at_one_of_two()
    {
        var id = await _f.ConnectAsync();

        var result = await _f.ClickAsync(id, Approver);

        Assert.Equal(DecisionOutcome.Recorded, result.Outcome);
        Assert.Equal($"Approved public-access of {id}: 1 of 2 approvals, waiting for 1 more.", result.Message);
        var prompt = _f.Chat.PendingPrompt(id)!;
        Assert.Equal("1 of 2 approvals (alex)", prompt.Progress);
        Assert.Contains("1 of 2 approvals (alex)", prompt.ToText());
        Assert.Equal(StepState.AwaitingApproval, (await _f.LoadAsync(id)).Step(StepNames.PublicAccess).State);
        Assert.False(_f.World.Applies.ContainsKey(StepNames.PublicAccess));
    }

    [Fact]
    public async Task The_same_person_approving_twice_counts_once()
    {
        var id = await _f.ConnectAsync();
        await _f.ClickAsync(id, Approver);
        var version = (await _f.LoadAsync(id)).Onboarding.Version;

        var again = await _f.ClickAsync(id, Approver with { DisplayName = "Alex again" });

        Assert.Equal(DecisionOutcome.AlreadyDecided, again.Outcome);
        Assert.Equal(version, (await _f.LoadAsync(id)).Onboarding.Version);
        Assert.Single(Assert.Single((await _f.LoadAsync(id)).Approvals).Decisions);
    }

    [Fact]
    public async Task A_second_approver_applies_it_and_the_prompt_and_audit_show_both()
    {
        var id = await _f.ConnectAsync();
        await _f.ClickAsync(id, Approver);

        var result = await _f.ClickAsync(id, Second);

        Assert.Equal(DecisionOutcome.Recorded, result.Outcome);
        Assert.Equal(1, _f.World.Applies[StepNames.PublicAccess]);
        var decided = _f.Chat.Prompts.First(p => p.Step == StepNames.PublicAccess);
        Assert.Equal(ApprovalStates.Approved, decided.State);
        Assert.Equal(["alex", "bo"], decided.ApprovedBy.Select(a => a.DisplayName));
        Assert.StartsWith("Approved by alex, bo at", decided.ToText().Split('\n')[^1]);
        var audit = await _f.Store.GetAuditAsync(id, CancellationToken.None);
        Assert.Equal([$"{Approver}", $"{Second}"], audit.Where(e => e.Action == "approved").Select(e => e.Actor));
        Assert.NotEqual(StepNames.PublicAccess, _f.Chat.PendingPrompt(id)?.Step);
    }

    [Fact]
    public async Task A_reject_from_any_approver_ends_it_even_after_one_approval()
    {
        var id = await _f.ConnectAsync();
        await _f.ClickAsync(id, Approver);

        await _f.ClickAsync(id, Second, approve: false);

        var agg = await _f.LoadAsync(id);
        Assert.Equal(OnboardingState.Rejected, agg.State);
        Assert.False(_f.World.Applies.ContainsKey(StepNames.PublicAccess));
    }

    [Fact]
    public async Task Self_approval_is_refused_for_each_approval_of_a_quorum()
    {
        using var f = new EngineFixture(new()
        {
            ["Approvals:Steps:public-access:Required"] = "2",
            ["Approvals:Approvers:2"] = Requester.Id,
        });
        var id = await f.ConnectAsync();
        await f.ClickAsync(id, Approver);

        var self = await f.ClickAsync(id, Requester);

        Assert.Equal(DecisionOutcome.NotAllowed, self.Outcome);
        Assert.Equal("1 of 2 approvals (alex)", f.Chat.PendingPrompt(id)!.Progress);
    }

    [Fact]
    public async Task Expiry_covers_the_whole_prompt_however_many_approvals_it_has()
    {
        var id = await _f.ConnectAsync();
        var prompt = _f.Chat.PendingPrompt(id)!;
        await _f.ClickAsync(id, Approver);

        _f.Clock.Advance(TimeSpan.FromHours(2));
        await _f.Reconciler.ReconcileAsync(startup: false, CancellationToken.None);
        var late = await _f.Decider.DecideAsync(prompt.ApprovalId, Second, true, CancellationToken.None);

        Assert.Equal(OnboardingState.Cancelled, (await _f.LoadAsync(id)).State);
        Assert.Equal(DecisionOutcome.AlreadyDecided, late.Outcome);
        Assert.False(_f.World.Applies.ContainsKey(StepNames.PublicAccess));
    }
}
