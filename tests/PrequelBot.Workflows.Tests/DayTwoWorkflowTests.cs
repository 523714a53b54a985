using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using static PrequelBot.Workflows.Tests.EngineFixture;

namespace PrequelBot.Workflows.Tests;

/// <summary><c>disconnect</c> and <c>audit</c> through the engine, its real state store and the fake infrastructure.</summary>
public sealed class DayTwoWorkflowTests : IDisposable
{
    private readonly EngineFixture _f = new();

    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task Disconnect_of_a_database_never_connected_answers_one_line_and_starts_nothing()
    {
        var reply = await _f.SayAsync("disconnect mydb");

        Assert.True(reply.IsError);
        Assert.Equal("mydb is not connected: no connect of it has completed (since its last disconnect), so there is nothing to disconnect.", reply.Text);
        Assert.Empty(await _f.Store.ListIdsOfDatabaseAsync("mydb", CancellationToken.None));
    }

    [Fact]
    public async Task Disconnect_of_an_unknown_alias_gets_the_usual_unknown_database_error()
    {
        var reply = await _f.SayAsync("disconnect nosuchdb");

        Assert.True(reply.IsError);
        Assert.StartsWith("Unknown database nosuchdb.", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disconnect_after_a_connect_removes_each_effect_with_an_approval_under_a_card_titled_Disconnect_and_then_the_database_is_not_connected()
    {
        var connect = await _f.ConnectAsync();
        await _f.ApproveAllAsync(connect);
        _f.World.Effects.TryAdd("unrelated", 1);

        var reply = await _f.SayAsync("disconnect mydb");
        Assert.False(reply.IsError, reply.Text);
        var id = reply.StartedOnboardingId!;
        await _f.DrainAsync();
        var approved = await _f.ApproveAllAsync(id);

        Assert.Equal([StepNames.UnregisterSource, StepNames.DropUser, StepNames.CloseNetworkAcl, StepNames.CloseSecurityGroup, StepNames.RestorePublicAccess], approved);
        var agg = await _f.LoadAsync(id);
        Assert.Equal((OnboardingKind.Disconnect, OnboardingState.Completed), (agg.Onboarding.Request.Kind, agg.State));
        Assert.Equal(StepState.AlreadyInPlace, agg.Step(StepNames.DeleteReplica).State);
        Assert.Equal(connect, agg.Onboarding.Facts.Values[FactKeys.DisconnectOf]);
        Assert.Equal(["unrelated"], _f.World.Effects.Keys);
        Assert.StartsWith($"Disconnect {id} of mydb", _f.Chat.Cards.Single(c => c.OnboardingId == id).ToText(), StringComparison.Ordinal);
        Assert.Equal("mydb is not connected: no connect of it has completed (since its last disconnect), so there is nothing to disconnect.", (await _f.SayAsync("disconnect mydb")).Text);
    }

    [Fact]
    public async Task Rotate_of_a_database_never_connected_answers_one_line()
    {
        var reply = await _f.SayAsync("rotate mydb");

        Assert.True(reply.IsError);
        Assert.Equal("mydb is not connected: no connect of it has completed (since its last disconnect), so there is no password to rotate.", reply.Text);
    }

    [Fact]
    public async Task Rotate_asks_for_the_new_password_and_the_source_update_then_verifies_under_a_card_titled_Rotate()
    {
        var connect = await _f.ConnectAsync();
        await _f.ApproveAllAsync(connect);

        var id = (await _f.SayAsync("rotate mydb")).StartedOnboardingId!;
        await _f.DrainAsync();
        var approved = await _f.ApproveAllAsync(id);

        Assert.Equal([StepNames.RotatePassword, StepNames.UpdateSource], approved);
        var agg = await _f.LoadAsync(id);
        Assert.Equal((OnboardingKind.Rotate, OnboardingState.Completed), (agg.Onboarding.Request.Kind, agg.State));
        Assert.Equal([StepNames.RotatePassword, StepNames.UpdateSource, StepNames.VerifyAccess], agg.Steps.Select(s => s.Name));
        Assert.Equal("Rotated: Prequel source src-mydb now uses the new password of prequel_reader.", agg.Onboarding.Message);
        Assert.StartsWith($"Rotate {id} of mydb: completed", _f.Chat.Cards.Single(c => c.OnboardingId == id).ToText(), StringComparison.Ordinal);
        Assert.Equal(1, _f.World.EffectCount($"{StepNames.UpdateSource}:{id}"));
    }

    [Fact]
    public async Task A_second_active_onboarding_of_any_kind_is_refused()
    {
        var connect = await _f.ConnectAsync();
        await _f.ApproveAllAsync(connect);
        var disconnect = (await _f.SayAsync("disconnect mydb")).StartedOnboardingId!;

        var reply = await _f.SayAsync("connect mydb");

        Assert.True(reply.IsError);
        Assert.Contains($"mydb already has an active onboarding ({disconnect})", reply.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Audit_lists_the_request_every_plan_each_approval_with_who_and_platform_and_each_step_in_UTC()
    {
        var id = await _f.ConnectAsync();
        await _f.ApproveAllAsync(id);

        var reply = await _f.SayAsync($"audit {id}", Stranger);

        Assert.False(reply.IsError, reply.Text);
        var lines = reply.Text.Split('\n');
        Assert.Equal($"Audit of {id}:", lines[0]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ slack UREQUESTER \(rita\) onboarding-requested: connect mydb$", lines[1]);
        Assert.Contains(lines, l => l.Contains(" prequelbot - approval-requested: public-access: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" slack UAPPROVER (alex) approved: register-source: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" prequelbot - step-started: create-user", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(" prequelbot - step-completed: register-source", StringComparison.Ordinal));
        Assert.EndsWith("onboarding-completed", lines[^1], StringComparison.Ordinal);
        Assert.True((await _f.SayAsync("audit ob-nosuch1")).IsError);
    }
}
