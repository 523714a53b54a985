using Amazon.EC2.Model;
using Npgsql;
using PrequelBot.Testing;
using Xunit.Abstractions;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// <c>check &lt;db&gt;</c> through the built host (signed Slack requests) on moto, the test PostgreSQL cluster and the fake
/// Prequel API: not connected → one line; after a connect everything is <c>ok</c>, a table created later included; a rule
/// revoked by hand is named as <c>drift:</c>; and the check itself changes nothing.
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed partial class CheckEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EndToEndWorld _world = null!;
    private OnboardingDriver _onboarding = null!;

    public async Task InitializeAsync()
    {
        _world = await EndToEndWorld.CreateAsync();
        _onboarding = new OnboardingDriver(_world);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    private Task<string> ReplyAsync(HostProcess host, string text) => _world.Slack.ReplyAsync(host, text);

    private async Task<long> PublicTablesAsync()
    {
        await using var admin = NpgsqlDataSource.Create(_world.SourceConnectionString);
        await using var command = admin.CreateCommand("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Check_is_ok_after_connect_including_a_later_table_then_names_a_rule_revoked_by_hand()
    {
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));
        var notConnected = await ReplyAsync(host, $"check {EndToEndWorld.Alias}");
        Assert.Contains($"{EndToEndWorld.Alias} is not connected", notConnected, StringComparison.Ordinal);

        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var connect = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, connect);

        // A table the admin creates after the onboarding: default privileges make it readable.
        await using (var admin = NpgsqlDataSource.Create(_world.SourceConnectionString))
        await using (var create = admin.CreateCommand("CREATE TABLE public.created_after_onboarding (id int)"))
        {
            await create.ExecuteNonQueryAsync();
        }
        var tables = await PublicTablesAsync();
        var callsBefore = _world.Prequel.Posts + _world.Prequel.Deletes + _world.Prequel.PatchedBodies.Count;

        var ok = await ReplyAsync(host, $"check {EndToEndWorld.Alias}");
        output.WriteLine(ok);
        var lines = ok.Split('\n').Skip(1).ToList();
        Assert.True(lines.Count > 0 && lines.All(l => l.StartsWith("ok ", StringComparison.Ordinal)), ok);
        Assert.Contains($"ok role {_world.User} can read all {tables} table(s) of schema public", ok, StringComparison.Ordinal);
        Assert.Contains($"ok {EndToEndWorld.Ip1} reaches TCP 5432", ok, StringComparison.Ordinal);
        Assert.Contains("ok Prequel source ", ok, StringComparison.Ordinal);
        Assert.Contains($"user {_world.User}", ok, StringComparison.Ordinal);

        // Someone revokes the bot's rule for Ip2 by hand.
        var dedicated = ((await _world.Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("vpc-id", [_world.Aws.VpcId])] })).SecurityGroups ?? []).Single(g => g.GroupName.StartsWith("prequelbot-", StringComparison.Ordinal));
        await _world.Moto.Ec2.RevokeSecurityGroupIngressAsync(new RevokeSecurityGroupIngressRequest
        {
            GroupId = dedicated.GroupId,
            IpPermissions = [new IpPermission { IpProtocol = "tcp", FromPort = 5432, ToPort = 5432, Ipv4Ranges = [new IpRange { CidrIp = $"{EndToEndWorld.Ip2}/32" }] }],
        });
        var drift = await ReplyAsync(host, $"check {EndToEndWorld.Alias}");
        output.WriteLine(drift);
        Assert.Contains($"drift: security group {dedicated.GroupId} no longer has the rule TCP 5432 from {EndToEndWorld.Ip2}/32 PrequelBot added", drift, StringComparison.Ordinal);
        Assert.Contains($"drift: {EndToEndWorld.Ip2} cannot reach TCP 5432", drift, StringComparison.Ordinal);
        Assert.Contains($"ok {EndToEndWorld.Ip1} reaches TCP 5432", drift, StringComparison.Ordinal);

        // check changed nothing: no Prequel write, no new onboarding card.
        Assert.Equal(callsBefore, _world.Prequel.Posts + _world.Prequel.Deletes + _world.Prequel.PatchedBodies.Count);
        Assert.Equal(1, _world.SlackChannel.CardPostCount());
        Assert.Single(_world.Prequel.Sources);
    }

    [Fact]
    public async Task Kill_9_in_the_middle_of_a_check_leaves_no_onboarding_changes_nothing_and_the_next_check_answers()
    {
        // Every AWS call goes through a proxy to moto that can hold calls.
        await using var aws = await AwsThrottlingProxy.StartAsync(Environment.GetEnvironmentVariable("Aws__ServiceUrl")!, every: int.MaxValue);
        var settings = _world.Settings(_world.Sqlite());
        settings["Aws__ServiceUrl"] = aws.Url;
        var host = await _world.StartHostAsync("node", settings);
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var connect = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, connect);
        var before = await _world.AwsSnapshotAsync();
        var prequelWrites = (_world.Prequel.Posts, _world.Prequel.Deletes, _world.Prequel.Patches);
        int LateReplies() => _world.SlackApi.Calls.Count(c => c.Method.StartsWith("hooks/commands/", StringComparison.Ordinal));
        var lateReplies = LateReplies();

        // The check's AWS reads are held; the host answers "Working on it" and is killed while the check waits on AWS.
        aws.Hold(_ => true);
        var acknowledgement = await _world.Slack.CommandAsync(host, $"check {EndToEndWorld.Alias}");
        Assert.Contains("Working on it", acknowledgement, StringComparison.Ordinal);
        await aws.Holding.WaitAsync(EndToEndWorld.Patience);
        host.Kill();
        Assert.False(host.ShutDownGracefully, $"{host.Name} shut down gracefully: the kill was not a kill -9.\n{host.Tail()}");
        aws.ReleaseHeld();
        Assert.Equal(lateReplies, LateReplies()); // the killed check never answered

        host = await _world.StartHostAsync("node", settings);
        var status = await _world.Slack.ReplyAsync(host, "status");
        output.WriteLine(status);
        Assert.Equal([connect], OnboardingIds().Matches(status).Select(m => m.Value).Distinct());
        var again = await _world.Slack.ReplyAsync(host, $"check {EndToEndWorld.Alias}");
        output.WriteLine(again);
        Assert.StartsWith($"Check of {EndToEndWorld.Alias} (connect {connect}): everything is as recorded.", again, StringComparison.Ordinal);
        Assert.All(again.Split('\n').Skip(1), line => Assert.StartsWith("ok ", line, StringComparison.Ordinal));

        // Nothing changed: AWS as before, no Prequel write, no new card or prompt.
        Assert.Equal(before, await _world.AwsSnapshotAsync());
        Assert.Equal(prequelWrites, (_world.Prequel.Posts, _world.Prequel.Deletes, _world.Prequel.Patches));
        Assert.Equal(1, _world.SlackChannel.CardPostCount());
        Assert.Equal(OnboardingDriver.ApprovedSteps.Length, _world.SlackChannel.PromptPostSteps().Count);
        Assert.Single(_world.Prequel.Sources);
        Assert.Equal(1, (await _world.RoleAsync()).Count);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"ob-[a-z0-9]{4,12}")]
    private static partial System.Text.RegularExpressions.Regex OnboardingIds();
}
