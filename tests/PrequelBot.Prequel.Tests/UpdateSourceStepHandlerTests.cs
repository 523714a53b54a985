using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel.Tests;

/// <summary><c>update-source</c> of <c>rotate</c> against the fake Prequel API (PATCH /sources/{id}).</summary>
public sealed class UpdateSourceStepHandlerTests
{
    [Theory]
    [InlineData("2023-12-01")]
    [InlineData("2022-01-01")]
    public async Task The_recorded_source_gets_only_the_new_password_keeps_its_id_and_stays_the_only_one(string apiVersion)
    {
        await using var api = await FakePrequelApi.StartAsync(apiVersion);
        await using var host = PrequelTestHost.Create(api.BaseUrl, apiVersion);
        var connect = PrequelTestHost.Context("ob-conn1");
        await host.Secrets.PutAsync(connect.OnboardingId, SecretNames.UserPassword, "Old0123456789abcdefghijklmnopqrstu", CancellationToken.None);
        await host.Handler.ApplyAsync(connect, CancellationToken.None);
        var id = api.Sources.Single().Id;
        var rotate = new StepContext { OnboardingId = "ob-rot1", StepName = StepNames.UpdateSource, Request = connect.Request, Facts = connect.Facts };
        const string fresh = "New0123456789abcdefghijklmnopqrstu";
        await host.Secrets.PutAsync(rotate.OnboardingId, SecretNames.UserPassword, fresh, CancellationToken.None);

        var plan = await host.Update.PlanAsync(rotate, CancellationToken.None);
        var first = await host.Update.ApplyAsync(rotate, CancellationToken.None);
        var again = await host.Update.ApplyAsync(rotate, CancellationToken.None);

        Assert.Equal($"update the password of Prequel source mydb (id {id}) in production to the new one of prequel_reader (PATCH /sources/{id})", Assert.Single(plan.Changes));
        Assert.DoesNotContain(fresh, plan.Changes[0] + plan.Note, StringComparison.Ordinal);
        Assert.Equal((StepOutcome.Done, StepOutcome.Done), (first.Outcome, again.Outcome));
        Assert.Equal(id, Assert.Single(api.Sources).Id);
        Assert.Equal(fresh, api.CurrentPassword(id));
        var patch = api.PatchedBodies[0].Body["source"]!.AsObject();
        Assert.Single(patch); // only the password's branch
        Assert.Equal(1, api.Posts);
    }

    [Fact]
    public async Task A_recorded_source_that_is_gone_fails_the_plan_with_one_line()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var context = PrequelTestHost.Context("ob-rot2");
        context.Facts.Changes.SetSource("src_gone", created: true);
        var rotate = new StepContext { OnboardingId = "ob-rot2", StepName = StepNames.UpdateSource, Request = context.Request, Facts = context.Facts };

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Update.PlanAsync(rotate, CancellationToken.None));

        Assert.Equal("Prequel has no source src_gone any more in production; connect the database again", error.Message);
    }
}
