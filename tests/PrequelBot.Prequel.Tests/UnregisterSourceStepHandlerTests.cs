using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel.Tests;

/// <summary><c>unregister-source</c> of <c>disconnect</c> against the fake Prequel API (DELETE /sources/{id}).</summary>
public sealed class UnregisterSourceStepHandlerTests
{
    private const string Password = "Stored0123456789abcdefghijklmnopqr";

    [Fact]
    public async Task The_source_register_source_created_is_recorded_and_deleted_once_and_a_rerun_finds_it_gone()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var context = PrequelTestHost.Context("ob-unreg1");
        await host.Secrets.PutAsync(context.OnboardingId, SecretNames.UserPassword, Password, CancellationToken.None);
        Assert.Equal(StepOutcome.Done, (await host.Handler.ApplyAsync(context, CancellationToken.None)).Outcome);
        var record = context.Facts.Changes;
        Assert.Equal((api.Sources.Single().Id, true), (record.PrequelSourceId, record.SourceCreated));
        var disconnect = new StepContext { OnboardingId = "ob-unreg2", StepName = StepNames.UnregisterSource, Request = context.Request, Facts = context.Facts };

        var plan = await host.Unregister.PlanAsync(disconnect, CancellationToken.None);
        var result = await host.Unregister.ApplyAsync(disconnect, CancellationToken.None);

        Assert.Equal($"delete Prequel source mydb (id {record.PrequelSourceId}) in production", Assert.Single(plan.Changes));
        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.Empty(api.Sources);
        Assert.False((await host.Unregister.PlanAsync(disconnect, CancellationToken.None)).HasChanges);
        Assert.Equal($"Prequel source {record.PrequelSourceId} was already gone", (await host.Unregister.ApplyAsync(disconnect, CancellationToken.None)).Message);
        Assert.Equal(2, api.Deletes);
    }

    [Fact]
    public async Task A_source_that_existed_before_the_connect_is_left_alone_and_the_plan_says_so()
    {
        await using var api = await FakePrequelApi.StartAsync();
        var existing = api.Seed("mydb");
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var context = PrequelTestHost.Context("ob-unreg3");
        Assert.False((await host.Handler.PlanAsync(context, CancellationToken.None)).HasChanges);
        var disconnect = new StepContext { OnboardingId = "ob-unreg4", StepName = StepNames.UnregisterSource, Request = context.Request, Facts = context.Facts };

        var plan = await host.Unregister.PlanAsync(disconnect, CancellationToken.None);

        Assert.False(plan.HasChanges);
        Assert.Equal($"Prequel source {existing.Id} existed before the connect; left alone", plan.Detail);
        Assert.Single(api.Sources);
        Assert.Equal(0, api.Deletes);
    }

    [Fact]
    public async Task A_register_source_killed_after_the_POST_and_before_its_save_records_the_source_as_its_own_on_the_rerun()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var context = PrequelTestHost.Context("ob-unreg5");
        await host.Secrets.PutAsync(context.OnboardingId, SecretNames.UserPassword, Password, CancellationToken.None);
        context.Facts.Values[FactKeys.UserPasswordSet] = "prequel_reader";
        var approved = await host.Handler.PlanAsync(context, CancellationToken.None);
        var lost = new StepContext { OnboardingId = context.OnboardingId, StepName = context.StepName, Request = context.Request, Facts = context.Facts.Clone() };
        await host.Handler.ApplyAsync(lost, CancellationToken.None);
        var rerun = new StepContext { OnboardingId = context.OnboardingId, StepName = context.StepName, Request = context.Request, Facts = context.Facts, ResumedPlan = approved, Attempt = 2 };

        var plan = await host.Handler.PlanAsync(rerun, CancellationToken.None);

        Assert.False(plan.HasChanges);
        Assert.Equal((api.Sources.Single().Id, true), (context.Facts.Changes.PrequelSourceId, context.Facts.Changes.SourceCreated));
        Assert.Equal(1, api.Posts);
    }
}
