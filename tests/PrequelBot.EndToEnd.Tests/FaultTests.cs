using Npgsql;
using PrequelBot.Prequel.Tests;
using PrequelBot.Workflows.Domain;
using Xunit.Abstractions;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// A whole onboarding from Slack against the built host (one process, SQLite unless said otherwise) while one thing
/// outside it misbehaves: AWS throttles, Slack rate-limits, Prequel answers 5xx, PostgreSQL restarts. Each time the
/// onboarding completes (by itself, or after a <c>/prequel retry</c> once the fault is gone) and every change exists
/// exactly once.
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class FaultTests(ITestOutputHelper output) : IAsyncLifetime
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
    public async Task AWS_throttling_every_third_RDS_and_EC2_call_delays_but_neither_fails_nor_duplicates_a_change()
    {
        // Arrange: the host talks to AWS through a proxy that answers every 3rd call Throttling / RequestLimitExceeded.
        await using var proxy = await AwsThrottlingProxy.StartAsync(Environment.GetEnvironmentVariable("Aws__ServiceUrl")!, every: 3);
        var settings = _world.Settings(_world.Sqlite());
        settings["Aws__ServiceUrl"] = proxy.Url;
        var host = await _world.StartHostAsync("node", settings);

        // Act
        await _world.Slack.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(host, id);

        // Assert: both services were throttled, and the mutating calls went through once each.
        Assert.Contains(proxy.Throttled, call => call.StartsWith("Rds:", StringComparison.Ordinal));
        Assert.Contains(proxy.Throttled, call => call.StartsWith("Ec2:", StringComparison.Ordinal));
        // ModifyDBInstance twice: the public flag, then the dedicated security group added to the instance's groups.
        Assert.Equal(2, proxy.Forwarded.Count(call => call == "Rds:ModifyDBInstance"));
        Assert.Single(proxy.Forwarded, call => call == "Ec2:CreateSecurityGroup");
        output.WriteLine($"Throttled {proxy.Throttled.Count} of {proxy.Throttled.Count + proxy.Forwarded.Count} AWS calls: {string.Join(", ", proxy.Throttled)}");
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    [Fact]
    public async Task Slack_answering_429_with_Retry_After_delays_the_card_and_a_prompt_but_delivers_each_once()
    {
        // Arrange: the first Web API calls (the card's post) are rate-limited.
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));
        _world.SlackApi.RateLimitNext(3, retryAfterSeconds: 1);

        // Act: connect; once the first prompt is answered, rate-limit the next calls (the card update and the next prompt).
        await _world.Slack.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        var limitedAgain = false;
        await _onboarding.ApproveUntilCompletedAsync(host, id, afterClick: prompt =>
        {
            if (!limitedAgain)
            {
                limitedAgain = true;
                _world.SlackApi.RateLimitNext(3, retryAfterSeconds: 1);
            }

            return Task.CompletedTask;
        });

        // Assert: six calls were refused with 429, and still one card, one prompt per step.
        Assert.Equal(6, _world.SlackApi.Faulted.Count);
        Assert.Contains(_world.SlackApi.Faulted, call => call.Method == "chat.postMessage" && call.Body["thread_ts"] is null);
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    [Fact]
    public async Task Prequel_answering_5xx_fails_register_source_clearly_and_retry_after_the_fault_creates_one_source()
    {
        // Arrange: Prequel's list answers 500/503 (sometimes with Retry-After) for the next 25 requests, more than
        // one register-source attempt's retries.
        var host = await _world.StartHostAsync("node", _world.Settings(_world.Sqlite()));
        for (var i = 0; i < 25; i++)
            _world.Prequel.Script.Enqueue(new ScriptedResponse("GET", i % 2 == 0 ? 503 : 500, "upstream unavailable", RetryAfterSeconds: i % 5 == 0 ? 1 : null));

        // Act
        await _world.Slack.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        var state = await _onboarding.ApproveUntilEndedAsync(host, id);

        // Assert: either the client's retries outlasted the fault, or register-source failed with a clear message
        // and a retry after the fault cleared completes it (the POST then commits but answers 503: listed, not re-posted).
        output.WriteLine($"Ended {state} while Prequel answered 5xx; {_world.Prequel.Gets} list requests.");
        if (state == OnboardingStates.Failed)
        {
            var card = _world.Slack.CardText(id);
            Assert.Contains(StepNames.RegisterSource, card, StringComparison.Ordinal);
            Assert.Contains("Prequel", card, StringComparison.Ordinal);
            Assert.Matches(@"HTTP 50[03]", card);
            Assert.Empty(_world.Prequel.Sources);

            _world.Prequel.Script.Clear();
            _world.Prequel.Script.Enqueue(new ScriptedResponse("POST", 503, "gateway timeout after commit", CommitFirst: true));
            var reply = await _onboarding.RetryAsync(host, id);
            Assert.True(reply.Contains($"Retrying {StepNames.RegisterSource} of {id}", StringComparison.Ordinal) || reply.Contains("Working on it", StringComparison.Ordinal), reply);
            await _onboarding.ApproveUntilCompletedAsync(host, id);
            Assert.Empty(_world.Prequel.Script); // the POST that committed and answered 503 was made, once
            Assert.Equal(1, _world.Prequel.Posts);
        }
        else
        {
            Assert.Equal(OnboardingStates.Completed, state);
        }

        Assert.True(_world.Prequel.Gets >= 5, $"Prequel saw only {_world.Prequel.Gets} list requests: the fault was never hit.");
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    /// <summary>
    /// A REAL restart (<c>pg_ctl restart -m fast</c>) of a PostgreSQL cluster of this test only, which holds both the
    /// bot's state (Storage:Provider=Postgres, Hangfire included) and the source database: once right after the
    /// security-group approval (the state store is in use) and once right after the create-user approval (the step
    /// runs against it). Pooled connections die with the restart.
    /// </summary>
    [Fact]
    public async Task A_PostgreSQL_restart_under_the_state_store_and_the_source_database_loses_nothing_and_creates_one_role()
    {
        // Arrange
        await using var cluster = await ThrowawayPostgres.StartAsync();
        var source = await cluster.CreateDatabaseAsync("e2e_src", """
            CREATE TABLE public.orders (id int PRIMARY KEY, note text);
            INSERT INTO public.orders VALUES (1, 'first');
            """);
        var state = await cluster.CreateDatabaseAsync("e2e_state");
        var settings = _world.Settings(new Dictionary<string, string>
        {
            ["Storage__Provider"] = "Postgres",
            ["Storage__ConnectionString"] = Pooled(state),
        });
        settings[$"Databases__{EndToEndWorld.Alias}__AdminConnectionString"] = Pooled(source);
        var host = await _world.StartHostAsync("node", settings);

        // Act
        await _world.Slack.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.Slack.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        var restarts = 0;
        var ended = await _onboarding.ApproveUntilEndedAsync(host, id, afterClick: async prompt =>
        {
            if (prompt.Step is StepNames.SecurityGroup or StepNames.CreateUser)
            {
                await cluster.RestartAsync();
                restarts++;
            }
        });
        output.WriteLine($"Ended {ended} after {restarts} restarts.");
        if (ended == OnboardingStates.Failed)
        {
            output.WriteLine(_world.Slack.CardText(id));
            // Allowed: a step failed clearly while the server was away; a retry completes it.
            Assert.False(string.IsNullOrWhiteSpace(_world.Slack.CardText(id)));
            await _onboarding.RetryAsync(host, id);
            await _onboarding.ApproveUntilCompletedAsync(host, id);
        }
        else
        {
            Assert.True(ended == OnboardingStates.Completed, $"The onboarding ended {ended}:\n{_world.Slack.CardText(id)}\n{_world.Diagnostics()}\n{cluster.LogTail()}");
        }

        // Assert
        Assert.Equal(2, restarts);
        Assert.False(host.HasExited, host.Tail());
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id, source);
    }

    private static string Pooled(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = true }.ConnectionString;
}
