using PrequelBot.Chat.Teams.Tests.Fakes;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// The built host as real processes, driven only through its HTTP endpoints (signed Slack requests, Bot Framework
/// activities with signed JWTs), on real adapters: moto for AWS, the test PostgreSQL cluster, the fake Prequel, Slack
/// and Teams (authority and Connector) APIs. Hosts are killed with
/// <c>kill -9</c> at step boundaries and mid-run; afterwards every change exists exactly once.
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class EndToEndTests : IAsyncLifetime
{
    private EndToEndWorld _world = null!;
    private OnboardingDriver _onboarding = null!;

    public async Task InitializeAsync()
    {
        _world = await EndToEndWorld.CreateAsync();
        _onboarding = new OnboardingDriver(_world);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task A_connect_from_Slack_opens_the_database_creates_a_read_only_user_and_registers_one_source()
    {
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));

        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, id);

        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    [Fact]
    public async Task A_connect_with_replica_from_Slack_creates_one_public_replica_leaves_the_source_private_and_registers_the_replica()
    {
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));

        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --replica --user {_world.User}");
        var id = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, id);

        var replica = await _onboarding.AssertReplicaChangesExactlyOnceAsync(_world.SlackChannel, id);
        Assert.Contains(replica.Identifier, _world.SlackChannel.CardText(id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connect_from_Teams_opens_the_database_creates_a_read_only_user_and_registers_one_source()
    {
        var teams = _world.Teams;
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));

        await teams.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await teams.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(teams, host, id);

        await _onboarding.AssertEveryChangeExactlyOnceAsync(teams, id);
        // Every prompt was decided by the approver's click and lost its buttons; every Connector call went to the
        // activity's serviceUrl and conversation with the bot's own token, and the bot fetched that token once.
        var prompts = teams.Prompts();
        Assert.Equal(OnboardingDriver.ApprovedSteps.Length, prompts.Count);
        Assert.All(prompts, p => Assert.False(TeamsChannel.ShowsButtons(p.Prompt), $"prompt {p.Id} still shows buttons"));
        Assert.All(prompts, p => Assert.Contains(TeamsChannel.Texts(p.Prompt), t => t.StartsWith("Approved by " + TeamsChannel.Approver.Name, StringComparison.Ordinal)));
        Assert.All(teams.Connector.Calls, c => Assert.StartsWith(TeamsChannel.EscapedConversationPath, c.RawTarget, StringComparison.Ordinal));
        Assert.All(teams.Connector.Calls, c => Assert.True(c.Status < 300, $"{c.Method} {c.RawTarget} answered {c.Status}"));
        Assert.Equal(1, teams.Authority.TokenRequests);
        Assert.Equal(0, teams.Authority.BadTokenRequests);
        Assert.False(teams.EverCarried(FakeBotFrameworkAuthority.AppPassword), "a Connector call carried the app password");
        Assert.Empty(_world.SlackApi.Calls);
    }

    [Fact]
    public async Task Kill_9_after_the_command_after_approvals_and_before_a_click_loses_nothing_and_applies_every_change_once()
    {
        var settings = _world.Settings(_world.Sqlite());
        var host = await _world.StartHostAsync("node", settings);
        async Task KillAndRestartAsync()
        {
            host.Kill();
            Assert.False(host.ShutDownGracefully, $"{host.Name} shut down gracefully: the kill was not a kill -9.\n{host.Tail()}");
            host = await _world.StartHostAsync("node", settings); // same SQLite file; Hangfire's in-memory queue is gone
        }

        // Killed right after the acknowledgement: discover and the card post may be in flight.
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        await KillAndRestartAsync();
        var id = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);

        var killedBeforeClick = false;
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, id,
            clickVia: async prompt =>
            {
                // At a step boundary: the prompt is posted, nobody has clicked yet.
                if (prompt.Step == StepNames.RegisterSource && !killedBeforeClick)
                {
                    killedBeforeClick = true;
                    await KillAndRestartAsync();
                }

                return host;
            },
            afterClick: async prompt =>
            {
                // Mid-run: the approval is recorded, its step job is queued or running against moto / PostgreSQL.
                if (prompt.Step is StepNames.SecurityGroup or StepNames.CreateUser) await KillAndRestartAsync();
            });

        Assert.True(killedBeforeClick);
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    [Fact]
    public async Task Two_nodes_on_one_PostgreSQL_share_the_work_and_the_onboarding_completes_once_after_one_is_killed()
    {
        var settings = _world.Settings(await _world.PostgresAsync());
        var nodeA = await _world.StartHostAsync("node-a", settings);
        var nodeB = await _world.StartHostAsync("node-b", settings);

        await _world.SlackChannel.CommandAsync(nodeA, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        var clicks = 0;
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, id,
            clickVia: _ => Task.FromResult(nodeA.HasExited || clicks++ % 2 == 0 ? nodeB : nodeA),
            afterClick: prompt =>
            {
                // Node A dies right after recording the approval of security-group; B must take over its work.
                if (prompt.Step == StepNames.SecurityGroup)
                {
                    nodeA.Kill();
                    Assert.False(nodeA.ShutDownGracefully, nodeA.Tail());
                }

                return Task.CompletedTask;
            });

        Assert.True(nodeA.HasExited);
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }
}
