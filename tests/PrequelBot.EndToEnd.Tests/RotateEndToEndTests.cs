using System.Text.Json.Nodes;
using Npgsql;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// <c>rotate</c> through the built host's real HTTP endpoints (signed Slack requests), on moto, the test PostgreSQL cluster
/// and the fake Prequel API (PATCH): a new password for the recorded role, sent to the same Prequel source; and the same
/// with the host killed (SIGKILL) right after each approval and restarted on the same SQLite file.
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class RotateEndToEndTests : IAsyncLifetime
{
    private const string OtherAlias = "otherdb";
    private static readonly string[] RotateSteps = [StepNames.RotatePassword, StepNames.UpdateSource];

    private EndToEndWorld _world = null!;
    private OnboardingDriver _onboarding = null!;

    public async Task InitializeAsync()
    {
        _world = await EndToEndWorld.CreateAsync();
        _onboarding = new OnboardingDriver(_world);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    /// <summary>Logs in as the reader with <paramref name="password"/>: null when it may log in, else the SQLSTATE.</summary>
    private async Task<string?> LoginAsync(string password)
    {
        try
        {
            Assert.Equal(1, await _world.CountOrdersAsAsync(password));
            return null;
        }
        catch (PostgresException e)
        {
            return e.SqlState;
        }
    }

    private static string? Password(JsonObject body) => body["source"]?["postgres"]?["password_auth"]?["password"]?.GetValue<string>();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rotate_from_Slack_gives_the_same_source_a_new_password_that_logs_in_and_refuses_the_old_one(bool killAfterEachApproval)
    {
        var settings = _world.Settings(_world.Sqlite());
        // A second configured database that is never connected.
        settings[$"Databases__{OtherAlias}__InstanceIdentifier"] = _world.Aws.InstanceId + "-other";
        settings[$"Databases__{OtherAlias}__AdminConnectionString"] = _world.SourceConnectionString;
        var host = await _world.StartHostAsync("node", settings);
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var connect = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, connect);
        var source = Assert.Single(_world.Prequel.Sources);
        var oldPassword = _world.Prequel.PostedPassword(_world.Prequel.PostedBodies.Count - 1)!;
        Assert.Null(await LoginAsync(oldPassword));

        var notConnected = await _world.Slack.CommandAsync(host, $"rotate {OtherAlias}");
        Assert.Contains($"{OtherAlias} is not connected", notConnected, StringComparison.Ordinal);

        var started = await _world.Slack.CommandAsync(host, $"rotate {EndToEndWorld.Alias}");
        Assert.Contains("Started rotation ob-", started, StringComparison.Ordinal);
        var rotate = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience, connect);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, rotate,
            clickVia: _ => Task.FromResult(host),
            afterClick: async _ =>
            {
                if (!killAfterEachApproval) return;
                // The approval is recorded; its step job is queued or running against PostgreSQL / Prequel.
                host.Kill();
                Assert.False(host.ShutDownGracefully, $"{host.Name} shut down gracefully: the kill was not a kill -9.\n{host.Tail()}");
                host = await _world.StartHostAsync("node", settings); // same SQLite file; Hangfire's in-memory queue is gone
            });

        // Prequel: still exactly one source, the same id, and every PATCH went to it with one and the same new password.
        var after = Assert.Single(_world.Prequel.Sources);
        Assert.Equal(source.Id, after.Id);
        Assert.NotEmpty(_world.Prequel.PatchedBodies);
        Assert.All(_world.Prequel.PatchedBodies, p => Assert.Equal(source.Id, p.Id));
        var newPassword = Assert.Single(_world.Prequel.PatchedBodies.Select(p => Password(p.Body)).Distinct());
        Assert.NotNull(newPassword);
        Assert.Equal(newPassword, _world.Prequel.CurrentPassword(source.Id));
        Assert.NotEqual(oldPassword, newPassword);
        Assert.Equal(1, _world.Prequel.Posts);

        // PostgreSQL: the password Prequel holds logs in; the old one is refused (28P01 invalid_password).
        Assert.Null(await LoginAsync(newPassword));
        Assert.Equal("28P01", await LoginAsync(oldPassword));

        // The channel: a Rotate card that ends completed, one prompt per rotate step.
        var card = _world.SlackChannel.CardText(rotate);
        Assert.StartsWith($"Rotate {rotate} of {EndToEndWorld.Alias}: completed", card, StringComparison.Ordinal);
        Assert.Equal(2, _world.SlackChannel.CardPostCount());
        Assert.Equal(RotateSteps.Order(), _world.SlackChannel.PromptPostSteps().Where(RotateSteps.Contains).Order());

        // Neither password reached a log line or Slack.
        foreach (var password in new[] { oldPassword, newPassword })
        {
            Assert.DoesNotContain(_world.AllHostOutput(), line => line.Contains(password, StringComparison.Ordinal));
            Assert.False(_world.SlackChannel.EverCarried(password), "a Slack call carried a generated password");
        }
    }
}
