using PrequelBot.Workflows.Domain;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// A <c>disconnect</c> under <c>kill -9</c> (of a <c>--replica</c> connect, so every step runs, without a final snapshot):
/// the host is SIGKILLed right after every approval click and a new host started on the same SQLite file. Every effect
/// still happens exactly once, counted at Prequel and at the AWS API (docs/feat/e2e.md).
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class LifecycleKillTests : IAsyncLifetime
{
    private EndToEndWorld _world = null!;
    private OnboardingDriver _onboarding = null!;

    public async Task InitializeAsync()
    {
        _world = await EndToEndWorld.CreateAsync();
        _onboarding = new OnboardingDriver(_world);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    /// <summary>The steps of a disconnect of a <c>--replica</c> connect that ask the approver (restore-public-access has nothing to restore).</summary>
    private static readonly string[] ReplicaDisconnectApprovedSteps =
        [StepNames.UnregisterSource, StepNames.DropUser, StepNames.CloseNetworkAcl, StepNames.CloseSecurityGroup, StepNames.DeleteReplica];

    [Fact]
    public async Task Kill_9_after_every_disconnect_approval_removes_each_thing_once_and_gives_AWS_back()
    {
        // Every AWS call goes through a counting proxy (it throttles nothing) to moto.
        await using var aws = await AwsThrottlingProxy.StartAsync(Environment.GetEnvironmentVariable("Aws__ServiceUrl")!, every: int.MaxValue);
        var settings = _world.Settings(_world.Sqlite());
        settings["Aws__ServiceUrl"] = aws.Url;
        var before = await _world.AwsSnapshotAsync();
        var host = await _world.StartHostAsync("node", settings);
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --replica --user {_world.User}");
        var connect = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, connect);
        var replica = Assert.Single(await _world.ReplicasOfSourceAsync());
        var group = Assert.Single(await _world.DedicatedGroupsAsync(replica.Identifier));
        var source = Assert.Single(_world.Prequel.Sources);
        var promptsOfConnect = _world.SlackChannel.PromptPostSteps().Count;

        await _world.SlackChannel.CommandAsync(host, $"disconnect {EndToEndWorld.Alias}");
        var disconnect = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience, connect);
        var kills = new List<string>();
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, disconnect, _ => Task.FromResult(host), afterClick: async prompt =>
        {
            // The approval is recorded; its step job is queued, running against Prequel / PostgreSQL / moto, or done.
            host.Kill();
            Assert.False(host.ShutDownGracefully, $"{host.Name} shut down gracefully: the kill was not a kill -9.\n{host.Tail()}");
            kills.Add(prompt.Step);
            host = await _world.StartHostAsync("node", settings); // same SQLite file; Hangfire's in-memory queue is gone
        });

        Assert.Equal(ReplicaDisconnectApprovedSteps.Order(), kills.Order());
        // Prequel: the recorded source removed by exactly one DELETE that found it.
        Assert.Empty(_world.Prequel.Sources);
        Assert.Equal([source.Id], _world.Prequel.DeletedIds);
        // PostgreSQL: the role is gone. AWS: the replica, its dedicated group and the ACL entries, each deleted by one call.
        Assert.Equal(0, await _world.RolesNamedAsync(_world.User));
        Assert.Empty(await _world.ReplicasOfSourceAsync());
        Assert.Empty(await _world.DedicatedGroupsAsync(replica.Identifier));
        Assert.Equal(before, await _world.AwsSnapshotAsync());
        Assert.Equal(1, aws.Forwarded.Count(a => a == "Rds:DeleteDBInstance"));
        Assert.Equal(1, aws.Forwarded.Count(a => a == "Ec2:DeleteSecurityGroup"));
        Assert.Equal(4, aws.Forwarded.Count(a => a == "Ec2:DeleteNetworkAclEntry"));
        // The channel: the disconnect's card once, completed; one prompt per approved step.
        Assert.Equal(2, _world.SlackChannel.CardPostCount());
        Assert.Equal(ReplicaDisconnectApprovedSteps.Order(), _world.SlackChannel.PromptPostSteps().Skip(promptsOfConnect).Order());
        await Eventually.Async(() => Task.FromResult(_world.SlackChannel.CardState(disconnect) == OnboardingStates.Completed), "the disconnect card shows completed", EndToEndWorld.Patience);
        Assert.Contains(group.GroupId, _world.SlackChannel.CardText(disconnect), StringComparison.Ordinal);
    }
}
