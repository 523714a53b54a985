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
    private static readonly string[] ApprovedSteps =
        [StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource];

    private static readonly TimeSpan WholeOnboarding = TimeSpan.FromSeconds(240);

    private EndToEndWorld _world = null!;

    public async Task InitializeAsync() => _world = await EndToEndWorld.CreateAsync();

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Fact]
    public async Task A_connect_from_Slack_opens_the_database_creates_a_read_only_user_and_registers_one_source()
    {
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));

        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await ApproveUntilCompletedAsync(_world.SlackChannel, id, _ => Task.FromResult(host));

        await AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    [Fact]
    public async Task A_connect_from_Teams_opens_the_database_creates_a_read_only_user_and_registers_one_source()
    {
        var teams = _world.Teams;
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));

        await teams.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await teams.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await ApproveUntilCompletedAsync(teams, id, _ => Task.FromResult(host));

        await AssertEveryChangeExactlyOnceAsync(teams, id);
        // Every prompt was decided by the approver's click and lost its buttons; every Connector call went to the
        // activity's serviceUrl and conversation with the bot's own token, and the bot fetched that token once.
        var prompts = teams.Prompts();
        Assert.Equal(ApprovedSteps.Length, prompts.Count);
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
        await ApproveUntilCompletedAsync(_world.SlackChannel, id,
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
        await AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
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
        await ApproveUntilCompletedAsync(_world.SlackChannel, id,
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
        await AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    /// <summary>
    /// Clicks Approve on every pending prompt of <paramref name="channel"/> (once per approval id) until the card says
    /// <c>completed</c>; <paramref name="clickVia"/> picks the host that receives each click.
    /// </summary>
    private async Task ApproveUntilCompletedAsync(IChatChannel channel, string id, Func<ChannelPrompt, Task<HostProcess>> clickVia, Func<ChannelPrompt, Task>? afterClick = null)
    {
        var clicked = new HashSet<string>();
        var deadline = DateTime.UtcNow + WholeOnboarding;
        while (DateTime.UtcNow < deadline)
        {
            var state = channel.CardState(id);
            if (state == OnboardingStates.Completed) return;
            Assert.False(state is OnboardingStates.Failed or OnboardingStates.Rejected or OnboardingStates.Cancelled,
                $"The onboarding ended {state}:\n{channel.CardText(id)}\n{_world.Diagnostics()}");

            var prompt = channel.PendingPrompts(id).FirstOrDefault(p => !clicked.Contains(p.ApprovalId));
            if (prompt is null)
            {
                await Task.Delay(100);
                continue;
            }

            var host = await clickVia(prompt);
            await channel.ApproveAsync(host, prompt);
            clicked.Add(prompt.ApprovalId);
            if (afterClick is not null) await afterClick(prompt);
        }

        Assert.Fail($"{id} did not complete within {WholeOnboarding.TotalSeconds:0} s:\n{channel.CardText(id)}\n{_world.Diagnostics()}");
    }

    /// <summary>What the onboarding must have left in AWS, PostgreSQL, Prequel and the channel: each change once.</summary>
    private async Task AssertEveryChangeExactlyOnceAsync(IChatChannel channel, string id)
    {
        // AWS (moto): public, one security group rule per static IP, one ACL entry per rule.
        Assert.True(await _world.PubliclyAccessibleAsync());
        var ranges = await _world.SecurityGroupRangesAsync();
        Assert.Equal([$"{EndToEndWorld.Ip2}/32", $"{EndToEndWorld.Ip1}/32"], ranges.Select(r => r.CidrIp).Order());
        var entries = await _world.AclEntriesAsync();
        Assert.Equal(3, entries.Count);
        foreach (var ip in new[] { EndToEndWorld.Ip1, EndToEndWorld.Ip2 })
        {
            var inbound = Assert.Single(entries, e => e.Egress == false && e.CidrBlock == $"{ip}/32");
            Assert.Equal(("6", "allow", 5432, 5432), (inbound.Protocol, inbound.RuleAction, inbound.PortRange.From, inbound.PortRange.To));
        }

        var outbound = Assert.Single(entries, e => e.Egress == true);
        Assert.Equal(("6", "allow", "0.0.0.0/0", 1024, 65535), (outbound.Protocol, outbound.RuleAction, outbound.CidrBlock, outbound.PortRange.From, outbound.PortRange.To));

        // Prequel: one source, whose credentials are a read-only login to the source database.
        var source = Assert.Single(_world.Prequel.Sources);
        Assert.Equal(EndToEndWorld.Alias, source.Name);
        var password = _world.Prequel.PostedPassword(_world.Prequel.PostedBodies.Count - 1)!;
        Assert.Equal(_world.User, source.Body["source"]?["postgres"]?["password_auth"]?["username"]?.GetValue<string>());

        // PostgreSQL: one role, no privileges beyond reading.
        var role = await _world.RoleAsync();
        Assert.Equal((false, false, false, true, 1), (role.Super, role.CreateDb, role.CreateRole, role.CanLogin, role.Count));
        Assert.Equal(1, await _world.CountOrdersAsAsync(password));
        Assert.Equal("42501", await _world.InsertAsAsync(password));

        // The channel: one card, one prompt per approved step; the card ends completed.
        Assert.Equal(1, channel.CardPostCount());
        Assert.Equal(ApprovedSteps.Order(), channel.PromptPostSteps().Order());
        await Eventually.Async(() => Task.FromResult(channel.CardState(id) == OnboardingStates.Completed), "the card shows completed", EndToEndWorld.Patience);

        // The generated password went to PostgreSQL and Prequel only: never to a log line or to Slack or Teams.
        Assert.DoesNotContain(_world.AllHostOutput(), line => line.Contains(password, StringComparison.Ordinal));
        Assert.False(_world.SlackChannel.EverCarried(password), "a Slack call carried the password");
        Assert.False(_world.Teams.EverCarried(password), "a Teams Connector call carried the password");
    }
}
