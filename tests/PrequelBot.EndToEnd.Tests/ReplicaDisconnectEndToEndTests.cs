using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// <c>disconnect</c> of a <c>connect --replica</c> through the built host's HTTP endpoints, on moto, the test PostgreSQL
/// cluster and the fake Prequel API: the replica the bot created is deleted, the source is untouched, and AWS is as before
/// the connect. Once plainly, once with <c>--final-snapshot</c> and the host SIGKILLed right after every approval of the
/// disconnect and restarted on the same SQLite file.
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class ReplicaDisconnectEndToEndTests : IAsyncLifetime
{
    /// <summary>The disconnect steps that ask after a <c>--replica</c> connect (the replica was created public: nothing to restore).</summary>
    private static readonly string[] DisconnectApprovedSteps =
        [StepNames.UnregisterSource, StepNames.DropUser, StepNames.CloseNetworkAcl, StepNames.CloseSecurityGroup, StepNames.DeleteReplica];

    private EndToEndWorld _world = null!;
    private OnboardingDriver _onboarding = null!;

    public async Task InitializeAsync()
    {
        _world = await EndToEndWorld.CreateAsync();
        _onboarding = new OnboardingDriver(_world);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Disconnect_of_a_replica_connect_deletes_the_replica_leaves_the_source_untouched_and_AWS_as_before(bool killAfterEachApprovalWithFinalSnapshot)
    {
        var before = await DisconnectEndToEndTests.AwsSnapshotAsync(_world);
        var sourceBefore = await _world.SourceInstanceAsync();
        var settings = _world.Settings(_world.Sqlite());
        var host = await _world.StartHostAsync("node", settings);
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --replica --user {_world.User}");
        var connect = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, connect);
        var replica = Assert.Single(await _world.ReplicasOfSourceAsync());
        var deletesBefore = _world.Prequel.Deletes;

        var flag = killAfterEachApprovalWithFinalSnapshot ? " --final-snapshot" : "";
        var started = await _world.Slack.CommandAsync(host, $"disconnect {EndToEndWorld.Alias}{flag}");
        Assert.Contains("Started disconnect ob-", started, StringComparison.Ordinal);
        var disconnect = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience, connect);
        var clicked = new List<string>();
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, disconnect,
            clickVia: _ => Task.FromResult(host),
            afterClick: async prompt =>
            {
                clicked.Add(prompt.Step);
                if (!killAfterEachApprovalWithFinalSnapshot) return;
                // The approval is recorded; its step job is queued or running against Prequel / PostgreSQL / moto.
                host.Kill();
                Assert.False(host.ShutDownGracefully, $"{host.Name} shut down gracefully: the kill was not a kill -9.\n{host.Tail()}");
                host = await _world.StartHostAsync("node", settings); // same SQLite file; Hangfire's in-memory queue is gone
            });

        // The replica is gone (or going); the source is as it was: not deleted, same groups, same public flag.
        Assert.All(await _world.ReplicasOfSourceAsync(), r => Assert.Equal("deleting", r.Status));
        var gone = await _world.Moto.Rds.DescribeDBInstanceAsync(replica.Identifier, CancellationToken.None);
        Assert.True(gone is null or { Status: "deleting" }, $"{replica.Identifier} is {gone?.Status}");
        var sourceAfter = await _world.SourceInstanceAsync();
        Assert.Equal((sourceBefore.Status, sourceBefore.PubliclyAccessible), (sourceAfter.Status, sourceAfter.PubliclyAccessible));
        Assert.Equal(sourceBefore.SecurityGroupIds, sourceAfter.SecurityGroupIds);
        // AWS (groups, rules, ACL entries, the source's group list and public flag) as before the connect.
        Assert.Equal(before, await DisconnectEndToEndTests.AwsSnapshotAsync(_world));
        // The role is gone, Prequel has no source; one DELETE reached Prequel's source (a re-run after a kill finds it gone: 404).
        Assert.Equal(0, await DisconnectEndToEndTests.RolesNamedAsync(_world, _world.User));
        Assert.Empty(_world.Prequel.Sources);
        Assert.InRange(_world.Prequel.Deletes - deletesBefore, 1, killAfterEachApprovalWithFinalSnapshot ? 2 : 1);
        // The channel: the Disconnect card ends completed, one prompt (and one click) per step that changes something.
        var card = _world.SlackChannel.CardText(disconnect);
        Assert.StartsWith($"Disconnect {disconnect} of {EndToEndWorld.Alias}: completed", card, StringComparison.Ordinal);
        Assert.Equal(DisconnectApprovedSteps.Order(), clicked.Order());
        Assert.Equal(DisconnectApprovedSteps.Order(), _world.SlackChannel.PromptPostSteps().Where(DisconnectApprovedSteps.Contains).Order());
        Assert.Equal(2, _world.SlackChannel.CardPostCount());
        if (killAfterEachApprovalWithFinalSnapshot)
        {
            // --final-snapshot of a read replica: the prompt named a manual snapshot of it, and that snapshot exists, once.
            var prompts = string.Join('\n', _world.SlackApi.Calls.Select(c => c.Body.ToJsonString()));
            var named = System.Text.RegularExpressions.Regex.Match(prompts, $@"take manual DB snapshot ({replica.Identifier}-prequel-final-\d{{12}}) of read replica {replica.Identifier}");
            Assert.True(named.Success, "no prompt named the final snapshot");
            var snapshot = await _world.Moto.Rds.DescribeDBSnapshotAsync(named.Groups[1].Value, CancellationToken.None);
            Assert.Equal((replica.Identifier, "available", "manual"), (snapshot?.InstanceIdentifier, snapshot?.Status, snapshot?.SnapshotType));
            Assert.Contains($"snapshot {named.Groups[1].Value} is kept", card, StringComparison.Ordinal);
        }
    }
}
