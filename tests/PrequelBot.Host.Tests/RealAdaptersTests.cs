using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Tests;

/// <summary>
/// A whole onboarding through the real host with the real step adapters: AWS against moto, create-user and
/// verify-access against the test run's PostgreSQL, register-source against the fake Prequel API through the real client.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class RealAdaptersTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-real-" + Guid.NewGuid().ToString("N"));
    private RealWorld _world = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _world = await RealWorld.CreateAsync();
    }

    public async Task DisposeAsync()
    {
        await _world.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [Fact]
    public async Task An_approved_onboarding_opens_the_network_creates_a_read_only_user_and_registers_a_source_whose_password_works()
    {
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        await using var host = new BotHost(_world.Settings(BotHost.Sqlite(_directory)), world: null, chat);

        var id = (await host.SayAsync(_world.ConnectCommand)).StartedOnboardingId!;
        await RealWorld.ApproveUntilCompletedAsync(host, chat, id);

        // AWS (moto): public, a dedicated group holding one /32 rule per static IP added to the instance's groups (its own
        // group untouched), ACL entries in and out for each static IP's /32.
        var instance = (await _world.Moto.Rds.DescribeDBInstanceAsync(_world.Instance.InstanceId, CancellationToken.None))!;
        Assert.True(instance.PubliclyAccessible);
        var dedicated = Assert.Single(await _world.DedicatedGroupsAsync());
        Assert.Equal([_world.Instance.SecurityGroupId, dedicated.GroupId], instance.SecurityGroupIds);
        Assert.Empty(await _world.SharedIngressAsync());
        var ingress = await _world.IngressAsync();
        Assert.Equal(RealWorld.StaticIps.Select(ip => ip + "/32").Order(),
            ingress.Where(p => p.IpProtocol == "tcp" && p.FromPort == 5432 && p.ToPort == 5432).SelectMany(p => p.Ipv4Ranges).Select(r => r.CidrIp).Order());
        var acl = await _world.AclEntriesAsync();
        foreach (var ip in RealWorld.StaticIps)
        {
            Assert.Contains(acl, e => e.Egress == false && e.RuleAction == "allow" && e.Protocol == "6" && e.CidrBlock == ip + "/32"
                                      && e.PortRange.From == 5432 && e.PortRange.To == 5432);
            Assert.Contains(acl, e => e.Egress == true && e.RuleAction == "allow" && e.Protocol == "6" && e.CidrBlock == ip + "/32"
                                      && e.PortRange.From == 1024 && e.PortRange.To == 65535);
        }
        Assert.Equal(2 * RealWorld.StaticIps.Length, acl.Count);

        // Prequel: exactly one source, pointing at the instance's endpoint, for the new user.
        var source = Assert.Single(_world.Prequel.Sources);
        var postgres = source.Body["source"]!["postgres"]!;
        var endpoint = (await _world.Moto.Rds.DescribeDBInstanceAsync(_world.Instance.InstanceId, CancellationToken.None))!.EndpointAddress;
        Assert.Equal(("mydb", endpoint, 5432, _world.Source.Name, "public", _world.Source.ReaderRole),
            (source.Name, postgres["host"]!.GetValue<string>(), postgres["port"]!.GetValue<int>(), postgres["database"]!.GetValue<string>(),
             postgres["schema"]!.GetValue<string>(), postgres["password_auth"]!["username"]!.GetValue<string>()));

        // PostgreSQL: the role is harmless, and the password Prequel received logs in, reads every table and cannot write.
        var role = await SourceDatabase.SuperuserAsync("postgres",
            $"SELECT concat_ws(' ', 'super=' || rolsuper::text, 'createdb=' || rolcreatedb::text, 'createrole=' || rolcreaterole::text, 'login=' || rolcanlogin::text) FROM pg_roles WHERE rolname = '{_world.Source.ReaderRole}'");
        Assert.Equal("super=false createdb=false createrole=false login=true", role);
        var password = _world.Prequel.PostedPassword()!;
        Assert.True(password.Length >= 32 && password.All(char.IsAsciiLetterOrDigit), "the password is 32+ letters and digits");
        await using var reader = new NpgsqlConnection(_world.Source.ConnectionStringFor(_world.Source.ReaderRole, password));
        await reader.OpenAsync();
        foreach (var table in SourceDatabase.Tables)
        {
            await using var select = new NpgsqlCommand($"SELECT count(*) FROM {table}", reader);
            Assert.True((long)(await select.ExecuteScalarAsync())! > 0, $"{table} is readable");
        }
        await using var insert = new NpgsqlCommand("INSERT INTO public.customers VALUES (3, 'Mallory')", reader);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);
        // Read-only is only the role's default: with it turned off, privileges still refuse every write.
        await using (var off = new NpgsqlCommand("SET default_transaction_read_only = off", reader)) await off.ExecuteNonQueryAsync();
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync())).SqlState);
        await using var create = new NpgsqlCommand("CREATE TABLE sales.sneaky (id int)", reader);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, (await Assert.ThrowsAsync<PostgresException>(() => create.ExecuteNonQueryAsync())).SqlState);

        // The stored password is erased once the source is registered.
        Assert.Null(await host.Services.GetRequiredService<IStateStore>().GetSecretAsync(id, SecretNames.UserPassword, CancellationToken.None));
        Assert.Null(await host.Services.GetRequiredService<ISecretStore>().GetAsync(id, SecretNames.UserPassword, CancellationToken.None));
        var onboarding = await host.LoadAsync(id);
        Assert.Equal(StepState.Completed, onboarding.Step(StepNames.RegisterSource).State);

        // verify-access really logged in as the role (it is never "already in place") and reported what it could read.
        var verify = onboarding.Step(StepNames.VerifyAccess);
        Assert.Equal(StepState.Completed, verify.State);
        Assert.Contains("readable", verify.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_connect_asks_nothing_changes_nothing_and_the_sources_password_still_logs_in()
    {
        var chat = new RecordingChatPlatform(BotHost.TestPlatform);
        await using var host = new BotHost(_world.Settings(BotHost.Sqlite(_directory)), world: null, chat);
        var first = (await host.SayAsync(_world.ConnectCommand)).StartedOnboardingId!;
        await RealWorld.ApproveUntilCompletedAsync(host, chat, first);
        var password = _world.Prequel.PostedPassword()!;

        var second = (await host.SayAsync(_world.ConnectCommand)).StartedOnboardingId!;
        await RealWorld.ApproveUntilCompletedAsync(host, chat, second);

        var again = await host.LoadAsync(second);
        Assert.DoesNotContain(chat.Prompts, p => p.OnboardingId == second);
        foreach (var step in new[] { StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource })
        {
            Assert.Equal((step, StepState.AlreadyInPlace), (step, again.Step(step).State));
        }
        Assert.Contains("checked through the admin connection", again.Step(StepNames.VerifyAccess).Detail, StringComparison.Ordinal);
        Assert.Equal(1, _world.Prequel.Posts);
        Assert.Single(await _world.DedicatedGroupsAsync());
        Assert.Equal(2, (await _world.IngressAsync()).SelectMany(p => p.Ipv4Ranges).Count());
        Assert.Equal(2 * RealWorld.StaticIps.Length, (await _world.AclEntriesAsync()).Count);
        // Prequel's source keeps working: the role's password was not touched.
        await using var reader = new NpgsqlConnection(_world.Source.ConnectionStringFor(_world.Source.ReaderRole, password));
        await reader.OpenAsync();
        await using var select = new NpgsqlCommand($"SELECT count(*) FROM {SourceDatabase.Tables[0]}", reader);
        Assert.True((long)(await select.ExecuteScalarAsync())! > 0);
    }
}
