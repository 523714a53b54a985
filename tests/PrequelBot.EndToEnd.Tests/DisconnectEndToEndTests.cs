using Amazon.EC2.Model;
using Npgsql;
using PrequelBot.Testing;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// Day two through the built host's real HTTP endpoints (signed Slack requests), on moto, the test PostgreSQL cluster and
/// the fake Prequel API: a <c>connect</c>, then a <c>disconnect</c> that gives the account back as it was.
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class DisconnectEndToEndTests : IAsyncLifetime
{
    private EndToEndWorld _world = null!;
    private OnboardingDriver _onboarding = null!;

    public async Task InitializeAsync()
    {
        _world = await EndToEndWorld.CreateAsync();
        _onboarding = new OnboardingDriver(_world);
    }

    public async Task DisposeAsync() => await _world.DisposeAsync();

    /// <summary>The VPC's groups and rules, the seeded ACL's entries, the instance's group list and public flag.</summary>
    private Task<string> AwsSnapshotAsync() => AwsSnapshotAsync(_world);

    /// <inheritdoc cref="AwsSnapshotAsync()"/>
    internal static async Task<string> AwsSnapshotAsync(EndToEndWorld _world)
    {
        var groups = (await _world.Moto.Ec2.DescribeSecurityGroupsAsync(new DescribeSecurityGroupsRequest { Filters = [new Filter("vpc-id", [_world.Aws.VpcId])] })).SecurityGroups ?? [];
        var lines = groups.OrderBy(g => g.GroupId, StringComparer.Ordinal).Select(g => $"group {g.GroupId} {g.GroupName}: " + string.Join(",",
            (g.IpPermissions ?? []).SelectMany(p => (p.Ipv4Ranges ?? []).Select(r => $"in {p.IpProtocol}:{p.FromPort}-{p.ToPort}:{r.CidrIp}:{r.Description}"))
            .Concat((g.IpPermissionsEgress ?? []).SelectMany(p => (p.Ipv4Ranges ?? []).Select(r => $"out {p.IpProtocol}:{p.FromPort}-{p.ToPort}:{r.CidrIp}")))
            .Order(StringComparer.Ordinal))).ToList();
        lines.AddRange((await _world.AclEntriesAsync()).Select(e => $"acl {e.RuleNumber} {(e.Egress == true ? "out" : "in")} {e.RuleAction} {e.Protocol} {e.CidrBlock} {e.PortRange?.From}-{e.PortRange?.To}").Order(StringComparer.Ordinal));
        var instance = await _world.SourceInstanceAsync();
        lines.Add($"instance groups {string.Join(",", instance.SecurityGroupIds)} public {instance.PubliclyAccessible}");
        return string.Join('\n', lines);
    }

    internal static async Task<long> RolesNamedAsync(EndToEndWorld _world, string name)
    {
        await using var admin = NpgsqlDataSource.Create(_world.SourceConnectionString);
        await using var command = admin.CreateCommand("SELECT count(*) FROM pg_roles WHERE rolname = $1");
        command.Parameters.AddWithValue(name);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Connect_then_disconnect_from_Slack_gives_AWS_back_as_before_drops_the_role_removes_the_source_and_keeps_the_customer_rule()
    {
        // A customer rule that admitted one static IP before the connect: the bot adds a rule only for the other one.
        await _world.Moto.Ec2.AuthorizeSecurityGroupIngressAsync(new AuthorizeSecurityGroupIngressRequest
        {
            GroupId = _world.Aws.SecurityGroupId,
            IpPermissions = [new IpPermission { IpProtocol = "tcp", FromPort = 5432, ToPort = 5432, Ipv4Ranges = [new IpRange { CidrIp = $"{EndToEndWorld.Ip1}/32", Description = "customer" }] }],
        });
        var before = await AwsSnapshotAsync();
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var connect = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, connect);
        Assert.NotEqual(before, await AwsSnapshotAsync());
        Assert.Single(_world.Prequel.Sources);
        Assert.Equal(1, await RolesNamedAsync(_world, _world.User));

        await _world.SlackChannel.CommandAsync(host, $"disconnect {EndToEndWorld.Alias}");
        var disconnect = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience, connect);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, disconnect);

        Assert.Equal(before, await AwsSnapshotAsync());
        Assert.Contains($"in tcp:5432-5432:{EndToEndWorld.Ip1}/32:customer", before, StringComparison.Ordinal);
        Assert.Equal(0, await RolesNamedAsync(_world, _world.User));
        Assert.Empty(_world.Prequel.Sources);
        Assert.Equal(1, _world.Prequel.Deletes);
        var card = _world.SlackChannel.CardText(disconnect);
        Assert.StartsWith($"Disconnect {disconnect} of {EndToEndWorld.Alias}: completed", card, StringComparison.Ordinal);
        Assert.Contains("delete-replica: already in place (PrequelBot created no replica for this database)", card, StringComparison.Ordinal);
        // A second disconnect has nothing to work from.
        await _world.SlackChannel.CommandAsync(host, $"disconnect {EndToEndWorld.Alias}");
        await Task.Delay(500);
        Assert.Equal(2, _world.SlackChannel.CardPostCount());
    }
}
