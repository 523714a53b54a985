using Npgsql;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// Drives one onboarding from Slack (clicks Approve on every prompt) and checks what it left behind, for the fault
/// tests. It mirrors the private helpers of <see cref="EndToEndTests"/> (owned elsewhere) with two differences the
/// faults need: the source database may live on another cluster, and the channel is judged by the messages the fake
/// Slack holds, not by <c>chat.postMessage</c> calls (a call answered 429 was not delivered).
/// </summary>
public sealed class FaultOnboarding(EndToEndWorld world)
{
    public static readonly TimeSpan WholeOnboarding = TimeSpan.FromSeconds(240);

    private static readonly string[] ApprovedSteps =
        [StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource];

    private readonly HashSet<string> _clicked = [];

    /// <summary>
    /// Clicks Approve on every new prompt until the card reaches an end state, and returns that state;
    /// <paramref name="afterClick"/> runs after each click (to inject a fault mid-run).
    /// </summary>
    public async Task<string> ApproveUntilEndedAsync(HostProcess host, string id, Func<SlackPrompt, Task>? afterClick = null)
    {
        var deadline = DateTime.UtcNow + WholeOnboarding;
        while (DateTime.UtcNow < deadline)
        {
            var state = world.Slack.CardState(id);
            if (state is OnboardingStates.Completed or OnboardingStates.Failed or OnboardingStates.Rejected or OnboardingStates.Cancelled) return state;

            var prompt = world.Slack.PendingPrompts(id).FirstOrDefault(p => !_clicked.Contains(p.ApprovalId));
            if (prompt is null)
            {
                await Task.Delay(100);
                continue;
            }

            await world.Slack.ClickAsync(host, prompt);
            _clicked.Add(prompt.ApprovalId);
            if (afterClick is not null) await afterClick(prompt);
        }

        Assert.Fail($"{id} did not end within {WholeOnboarding.TotalSeconds:0} s:\n{world.Slack.CardText(id)}\n{world.Diagnostics()}");
        return "";
    }

    /// <summary>Like <see cref="ApproveUntilEndedAsync"/>, and the end state must be <c>completed</c>.</summary>
    public async Task ApproveUntilCompletedAsync(HostProcess host, string id, Func<SlackPrompt, Task>? afterClick = null)
    {
        var state = await ApproveUntilEndedAsync(host, id, afterClick);
        Assert.True(state == OnboardingStates.Completed, $"The onboarding ended {state}:\n{world.Slack.CardText(id)}\n{world.Diagnostics()}");
    }

    /// <summary>
    /// Types <c>/prequel retry {id}</c> and waits until the card has left <c>failed</c> (or the onboarding already
    /// completed), so that the old card is not mistaken for the outcome of the retry; returns the acknowledgement.
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
    /// world's), Prequel and the channel: each change exactly once, and the password nowhere else.
    /// </summary>
    public async Task AssertEveryChangeExactlyOnceAsync(string id, string? sourceConnectionString = null)
    {
        var source = sourceConnectionString ?? world.SourceConnectionString;

        // AWS (moto): public, one security group rule per static IP, one ACL entry per rule.
        Assert.True(await world.PubliclyAccessibleAsync());
        var ranges = await world.SecurityGroupRangesAsync();
        Assert.Equal([$"{EndToEndWorld.Ip2}/32", $"{EndToEndWorld.Ip1}/32"], ranges.Select(r => r.CidrIp).Order());
        var entries = await world.AclEntriesAsync();
        Assert.Equal(3, entries.Count);
        foreach (var ip in new[] { EndToEndWorld.Ip1, EndToEndWorld.Ip2 })
        {
            var inbound = Assert.Single(entries, e => e.Egress == false && e.CidrBlock == $"{ip}/32");
            Assert.Equal(("6", "allow", 5432, 5432), (inbound.Protocol, inbound.RuleAction, inbound.PortRange.From, inbound.PortRange.To));
        }

        var outbound = Assert.Single(entries, e => e.Egress == true);
        Assert.Equal(("6", "allow", "0.0.0.0/0", 1024, 65535), (outbound.Protocol, outbound.RuleAction, outbound.CidrBlock, outbound.PortRange.From, outbound.PortRange.To));

        // Prequel: one source, whose credentials are a read-only login to the source database.
        var created = Assert.Single(world.Prequel.Sources);
        Assert.Equal(EndToEndWorld.Alias, created.Name);
        Assert.Equal(world.User, created.Body["source"]?["postgres"]?["password_auth"]?["username"]?.GetValue<string>());
        var password = world.Prequel.PostedPassword(world.Prequel.PostedBodies.Count - 1)!;

        // PostgreSQL: one role, no privileges beyond reading.
        await using (var admin = NpgsqlDataSource.Create(source))
        await using (var command = admin.CreateCommand("SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = $1"))
        {
            command.Parameters.AddWithValue(world.User);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), $"role {world.User} does not exist");
            Assert.Equal((false, false, false, true), (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3)));
            Assert.False(await reader.ReadAsync());
        }

        var asReader = new NpgsqlConnectionStringBuilder(source) { Username = world.User, Password = password, Pooling = false }.ConnectionString;
        await using (var connection = new NpgsqlConnection(asReader))
        {
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand("SELECT count(*) FROM public.orders", connection);
            Assert.Equal(1L, await select.ExecuteScalarAsync());
            await using var insert = new NpgsqlCommand("INSERT INTO public.orders VALUES (2, 'written by the reader')", connection);
            var refused = await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync());
            Assert.Equal("42501", refused.SqlState);
        }

        // Slack: one card and one prompt per approved step delivered (a call answered 429 delivered nothing).
        var delivered = world.SlackApi.DeliveredCallsTo("chat.postMessage").ToList();
        Assert.Single(delivered, c => c.Body["thread_ts"] is null);
        Assert.Equal(ApprovedSteps.Order(), delivered.Where(c => c.Body["thread_ts"] is not null).Select(c => PromptStep(c, id)).OfType<string>().Order());
        await Eventually.Async(() => Task.FromResult(world.Slack.CardState(id) == OnboardingStates.Completed), "the card shows completed", EndToEndWorld.Patience);

        // The generated password went to PostgreSQL and Prequel only: never to a log line or to Slack.
        Assert.DoesNotContain(world.AllHostOutput(), line => line.Contains(password, StringComparison.Ordinal));
        Assert.DoesNotContain(world.SlackApi.Calls, call => call.Body.ToJsonString().Contains(password, StringComparison.Ordinal));
    }

    /// <summary>The step a posted prompt of <paramref name="id"/> asks about ("Approval needed for {step} of {id} …"), or null.</summary>
    private static string? PromptStep(FakeSlackCall post, string id)
    {
        var words = (post.Body["text"]?.GetValue<string>() ?? "").Split(' ');
        return words.Length > 5 && string.Join(' ', words[..3]) == "Approval needed for" && words[4] == "of" && words[5] == id ? words[3] : null;
    }
}
