using PrequelBot.Aws.Rds;
using PrequelBot.Prequel.Tests;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// Drives one onboarding through a channel (Slack or Teams: clicks Approve on every new prompt) and checks what it
/// left behind, for <see cref="EndToEndTests"/> and <see cref="FaultTests"/>. The source database may live on another
/// cluster, and the channel is judged by the messages the platform actually delivered (a Slack call answered 429
/// delivered nothing).
/// </summary>
public sealed class OnboardingDriver(EndToEndWorld world)
{
    public static readonly TimeSpan WholeOnboarding = TimeSpan.FromSeconds(240);

    /// <summary>The steps that ask the approver (discover, read-replica and verify-access do not).</summary>
    public static readonly string[] ApprovedSteps =
        [StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource];

    /// <summary>Approval ids already clicked, across calls: a retry must not click an old prompt again.</summary>
    private readonly HashSet<string> _clicked = [];

    /// <summary>
    /// Clicks Approve on every new prompt of <paramref name="channel"/> until the card reaches an end state, and
    /// returns that state; <paramref name="clickVia"/> picks the host that receives each click (and may kill one),
    /// <paramref name="afterClick"/> runs after each click (to inject a fault mid-run).
    /// </summary>
    public async Task<string> ApproveUntilEndedAsync(IChatChannel channel, string id, Func<ChannelPrompt, Task<HostProcess>> clickVia, Func<ChannelPrompt, Task>? afterClick = null)
    {
        var deadline = DateTime.UtcNow + WholeOnboarding;
        while (DateTime.UtcNow < deadline)
        {
            var state = channel.CardState(id);
            if (state is OnboardingStates.Completed or OnboardingStates.Failed or OnboardingStates.Rejected or OnboardingStates.Cancelled) return state;

            var prompt = channel.PendingPrompts(id).FirstOrDefault(p => !_clicked.Contains(p.ApprovalId));
            if (prompt is null)
            {
                await Task.Delay(100);
                continue;
            }

            var host = await clickVia(prompt);
            await channel.ApproveAsync(host, prompt);
            _clicked.Add(prompt.ApprovalId);
            if (afterClick is not null) await afterClick(prompt);
        }

        Assert.Fail($"{id} did not end within {WholeOnboarding.TotalSeconds:0} s:\n{channel.CardText(id)}\n{world.Diagnostics()}");
        return "";
    }

    /// <summary>Like <see cref="ApproveUntilEndedAsync(IChatChannel, string, Func{ChannelPrompt, Task{HostProcess}}, Func{ChannelPrompt, Task}?)"/>, and the end state must be <c>completed</c>.</summary>
    public async Task ApproveUntilCompletedAsync(IChatChannel channel, string id, Func<ChannelPrompt, Task<HostProcess>> clickVia, Func<ChannelPrompt, Task>? afterClick = null)
    {
        var state = await ApproveUntilEndedAsync(channel, id, clickVia, afterClick);
        Assert.True(state == OnboardingStates.Completed, $"The onboarding ended {state}:\n{channel.CardText(id)}\n{world.Diagnostics()}");
    }

    /// <summary>Every click of <paramref name="channel"/> goes to <paramref name="host"/>; the end must be <c>completed</c>.</summary>
    public Task ApproveUntilCompletedAsync(IChatChannel channel, HostProcess host, string id, Func<ChannelPrompt, Task>? afterClick = null) =>
        ApproveUntilCompletedAsync(channel, id, _ => Task.FromResult(host), afterClick);

    /// <summary>From Slack, every click to <paramref name="host"/>; returns the end state.</summary>
    public Task<string> ApproveUntilEndedAsync(HostProcess host, string id, Func<ChannelPrompt, Task>? afterClick = null) =>
        ApproveUntilEndedAsync(world.SlackChannel, id, _ => Task.FromResult(host), afterClick);

    /// <summary>From Slack, every click to <paramref name="host"/>; the end must be <c>completed</c>.</summary>
    public Task ApproveUntilCompletedAsync(HostProcess host, string id, Func<ChannelPrompt, Task>? afterClick = null) =>
        ApproveUntilCompletedAsync(world.SlackChannel, host, id, afterClick);

    /// <summary>
    /// Types <c>/prequel retry {id}</c> in Slack and waits until the card has left <c>failed</c> (or the onboarding
    /// already completed), so that the old card is not mistaken for the outcome of the retry; returns the acknowledgement.
    /// </summary>
    public async Task<string> RetryAsync(HostProcess host, string id)
    {
        var reply = await world.Slack.CommandAsync(host, $"retry {id}");
        await Eventually.Async(
            () => Task.FromResult(world.Slack.CardState(id) != OnboardingStates.Failed),
            $"the card of {id} leaves failed after the retry (acknowledged: {reply})", EndToEndWorld.Patience,
            () => world.Slack.CardText(id) + "\n" + world.Diagnostics());
        return reply;
    }

    /// <summary>
    /// What the onboarding must have left in AWS, PostgreSQL (<paramref name="sourceConnectionString"/>, default the
    /// world's), Prequel and <paramref name="channel"/>: each change exactly once, and the password nowhere else.
    /// </summary>
    public async Task AssertEveryChangeExactlyOnceAsync(IChatChannel channel, string id, string? sourceConnectionString = null)
    {
        // AWS (moto): public, a dedicated group with one rule per static IP, one ACL entry per rule.
        Assert.True(await world.PubliclyAccessibleAsync());
        var groups = await AssertNetworkOpenedOnceAsync(world.Aws.InstanceId);
        Assert.Equal(groups, (await world.SourceInstanceAsync()).SecurityGroupIds);
        await AssertSourceUserAndChannelAsync(channel, id, ApprovedSteps, sourceConnectionString);
    }

    /// <summary>The steps that ask the approver with <c>--replica</c>: the replica is created public, so public-access asks nothing.</summary>
    public static readonly string[] ReplicaApprovedSteps =
        [StepNames.CreateReplica, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource];

    /// <summary>
    /// What <c>connect --replica</c> must have left: exactly one available, public read replica of the seeded instance
    /// tagged <c>managed-by=prequelbot</c>, the source untouched (still private, not itself a replica), the replica's
    /// dedicated security group and subnets' ACL (in moto the source's subnets) opened once, Prequel's one
    /// source pointing at the replica's endpoint, and the role, channel and password checks of
    /// <see cref="AssertEveryChangeExactlyOnceAsync"/> (the role is created on the writer, the admin connection).
    /// </summary>
    public async Task<RdsDbInstance> AssertReplicaChangesExactlyOnceAsync(IChatChannel channel, string id)
    {
        var replica = Assert.Single(await world.ReplicasOfSourceAsync());
        Assert.Equal(world.Aws.InstanceId + "-prequel-replica", replica.Identifier);
        Assert.Equal(world.Aws.InstanceId, replica.ReadReplicaSourceIdentifier);
        Assert.Equal("prequelbot", replica.Tags.GetValueOrDefault("managed-by"));
        Assert.True(replica.PubliclyAccessible, $"replica {replica.Identifier} is not publicly accessible");
        Assert.Equal("available", replica.Status);
        Assert.False(string.IsNullOrEmpty(replica.EndpointAddress), "the replica has no endpoint");

        var source = await world.SourceInstanceAsync();
        Assert.False(source.PubliclyAccessible, "the source instance was made public");
        Assert.Null(source.ReadReplicaSourceIdentifier);
        Assert.Equal([world.Aws.SecurityGroupId], source.SecurityGroupIds);

        // The replica sits behind the seeded security group and in the seeded subnets (of the custom ACL): those are
        // what the bot had to open, and nothing else.
        Assert.Equal(await AssertNetworkOpenedOnceAsync(replica.Identifier), replica.SecurityGroupIds);
        Assert.NotEmpty(replica.SubnetIds);
        Assert.All(replica.SubnetIds, subnet => Assert.Contains(subnet, world.Aws.SubnetIds));

        var created = await AssertSourceUserAndChannelAsync(channel, id, ReplicaApprovedSteps, sourceConnectionString: null);
        var postgres = created.Body["source"]?["postgres"];
        Assert.Equal((replica.EndpointAddress, replica.EndpointPort ?? 5432), (postgres?["host"]?.GetValue<string>(), postgres?["port"]?.GetValue<int>() ?? 0));
        Assert.NotEqual(source.EndpointAddress, postgres?["host"]?.GetValue<string>());
        return replica;
    }

    /// <summary>
    /// One dedicated group for <paramref name="target"/> with one rule per static IP, the seeded group left without rules,
    /// and per static IP one inbound and one outbound ACL entry for its /32 (the seeded ACL). Returns the groups the target
    /// must have: the seeded one, then the dedicated one.
    /// </summary>
    private async Task<IReadOnlyList<string>> AssertNetworkOpenedOnceAsync(string target)
    {
        var dedicated = Assert.Single(await world.DedicatedGroupsAsync(target));
        var ranges = await world.SecurityGroupRangesAsync(dedicated.GroupId);
        Assert.Equal([$"{EndToEndWorld.Ip2}/32", $"{EndToEndWorld.Ip1}/32"], ranges.Select(r => r.CidrIp).Order());
        Assert.Empty(await world.SecurityGroupRangesAsync(world.Aws.SecurityGroupId));
        var entries = await world.AclEntriesAsync();
        Assert.Equal(4, entries.Count);
        foreach (var ip in new[] { EndToEndWorld.Ip1, EndToEndWorld.Ip2 })
        {
            var inbound = Assert.Single(entries, e => e.Egress == false && e.CidrBlock == $"{ip}/32");
            Assert.Equal(("6", "allow", 5432, 5432), (inbound.Protocol, inbound.RuleAction, inbound.PortRange.From, inbound.PortRange.To));
            var outbound = Assert.Single(entries, e => e.Egress == true && e.CidrBlock == $"{ip}/32");
            Assert.Equal(("6", "allow", 1024, 65535), (outbound.Protocol, outbound.RuleAction, outbound.PortRange.From, outbound.PortRange.To));
        }
        return [world.Aws.SecurityGroupId, dedicated.GroupId];
    }

    /// <summary>Prequel's one source, the read-only role, the channel (one prompt per step of <paramref name="approvedSteps"/>) and the password's whereabouts.</summary>
    private async Task<FakeSource> AssertSourceUserAndChannelAsync(IChatChannel channel, string id, string[] approvedSteps, string? sourceConnectionString)
    {
        // Prequel: one source, whose credentials are a read-only login to the source database.
        var created = Assert.Single(world.Prequel.Sources);
        Assert.Equal(EndToEndWorld.Alias, created.Name);
        Assert.Equal(world.User, created.Body["source"]?["postgres"]?["password_auth"]?["username"]?.GetValue<string>());
        var password = world.Prequel.PostedPassword(world.Prequel.PostedBodies.Count - 1)!;

        // PostgreSQL: exactly one role, no privileges beyond reading: SELECT works, INSERT is refused: read-only default transaction (25006), and without it no privilege (42501).
        var role = await world.RoleAsync(sourceConnectionString);
        Assert.Equal((false, false, false, true, 1), (role.Super, role.CreateDb, role.CreateRole, role.CanLogin, role.Count));
        Assert.Equal(1, await world.CountOrdersAsAsync(password, sourceConnectionString));
        Assert.Equal("25006", await world.InsertAsAsync(password, sourceConnectionString));
        Assert.Equal("42501", await world.InsertAsAsync(password, sourceConnectionString, afterLeavingReadOnly: true));

        // The channel: one card and one prompt per approved step delivered; the card ends completed.
        Assert.Equal(1, channel.CardPostCount());
        Assert.Equal(approvedSteps.Order(), channel.PromptPostSteps().Order());
        await Eventually.Async(() => Task.FromResult(channel.CardState(id) == OnboardingStates.Completed), "the card shows completed", EndToEndWorld.Patience);

        // The generated password went to PostgreSQL and Prequel only: never to a log line or to Slack or Teams.
        Assert.DoesNotContain(world.AllHostOutput(), line => line.Contains(password, StringComparison.Ordinal));
        Assert.False(world.SlackChannel.EverCarried(password), "a Slack call carried the password");
        Assert.False(world.Teams.EverCarried(password), "a Teams Connector call carried the password");
        return created;
    }
}
