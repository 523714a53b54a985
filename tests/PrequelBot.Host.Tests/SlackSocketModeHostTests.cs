using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Testing;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

/// <summary>
/// The real host in Socket Mode (<c>Slack:AppToken</c>, no signing secret, so no HTTP request to <c>/slack/*</c> could
/// be served): commands and clicks arrive only as envelopes over the fake Slack's WebSockets, answers go out through
/// the fake Web API. See docs/slack-socket-mode.md.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed partial class SlackSocketModeHostTests : IAsyncLifetime
{
    private static readonly string[] ApprovalSteps = [StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.NetworkAcl, StepNames.CreateUser, StepNames.RegisterSource];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-socketmode-" + Guid.NewGuid().ToString("N"));
    private SlackBotHost _host = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _host = await SlackBotHost.StartAsync(_directory, socketMode: true);
        await _host.Slack.WaitForSocketConnectionsAsync(2);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    [GeneratedRegex("ob-[a-z0-9]{4,12}")]
    private static partial Regex OnboardingId();

    private async Task<string> ConnectOverSocketAsync(FakeSocketModeConnection? connection = null)
    {
        var reply = await _host.CommandOverSocketAsync("connect mydb", connection: connection);
        Assert.Equal("ephemeral", reply?["response_type"]?.GetValue<string>());
        var text = reply?["text"]?.GetValue<string>() ?? "";
        Assert.StartsWith("Started onboarding", text, StringComparison.Ordinal);
        return OnboardingId().Match(text).Value;
    }

    private async Task<OnboardingState> StateAsync(string id) => (await _host.LoadAsync(id)).Onboarding.State;

    /// <summary>Approves every prompt as it appears, each click through <paramref name="click"/>, until the onboarding completes.</summary>
    private async Task ApproveAllAsync(string id, Func<FakeSlackMessage, int, Task> click)
    {
        var clicked = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await StateAsync(id) != OnboardingState.Completed && DateTime.UtcNow < deadline)
        {
            Assert.NotEqual(OnboardingState.Failed, await StateAsync(id));
            foreach (var prompt in _host.PendingPrompts.Where(p => !clicked.Contains(p.Ts)))
            {
                await click(prompt, clicked.Count);
                clicked.Add(prompt.Ts);
            }
            await Task.Delay(50);
        }

        Assert.Equal(OnboardingState.Completed, await StateAsync(id));
    }

    private async Task AssertEverythingHappenedOnceAsync(string id)
    {
        await BotHost.EventuallyAsync(
            () => Task.FromResult(_host.Card?.Text?.StartsWith($"Onboarding {id} of mydb: completed", StringComparison.Ordinal) == true
                                  && _host.Prompts.Count == ApprovalSteps.Length && _host.PendingPrompts.Count == 0),
            "the card shows completed and every prompt is decided", TimeSpan.FromSeconds(60));
        Assert.Single(_host.Slack.CallsTo("chat.postMessage"), c => c.Body["thread_ts"] is null);
        Assert.Equal(ApprovalSteps.Length, _host.Slack.CallsTo("chat.postMessage").Count(c => c.Body["thread_ts"] is not null));
        var agg = await _host.LoadAsync(id);
        Assert.Equal(ApprovalSteps.Length, agg.Approvals.Count);
        Assert.All(agg.Approvals, a => Assert.Equal(ApprovalState.Approved, a.State));
        foreach (var step in ApprovalSteps)
            Assert.Equal(1, _host.World.EffectCount(FakeInfrastructure.EffectOf(step, agg.Onboarding.Request)));
        Assert.Single(await _host.OnboardingsAsync());
    }

    [Fact]
    public async Task A_whole_onboarding_runs_with_commands_and_clicks_over_the_socket_only()
    {
        var id = await ConnectOverSocketAsync();

        await ApproveAllAsync(id, async (prompt, _) => Assert.Null((await _host.ClickOverSocketAsync(prompt, "Approve"))["payload"]));

        await AssertEverythingHappenedOnceAsync(id);
        var status = await _host.CommandOverSocketAsync("status " + id);
        Assert.Contains("completed", SlackBotHost.Visible(new FakeSlackMessage("", "", null, status?["text"]?.GetValue<string>(), status?["blocks"] as JsonArray)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_forced_disconnect_mid_onboarding_loses_and_duplicates_nothing()
    {
        var id = await ConnectOverSocketAsync();

        await ApproveAllAsync(id, async (prompt, n) =>
        {
            if (n is 1 or 3)
            {
                // Slack asks one connection to refresh while the click goes over the other; then the replacement is used.
                var open = await _host.Slack.WaitForSocketConnectionsAsync(2);
                var (leaving, staying) = (open[0], open[1]);
                await leaving.DisconnectAsync("refresh_requested");
                await _host.ClickOverSocketAsync(prompt, "Approve", connection: staying);
                await BotHost.EventuallyAsync(() => Task.FromResult(!leaving.IsOpen && _host.Slack.OpenSocketConnections.Count == 2),
                    "the refreshed connection is replaced", TimeSpan.FromSeconds(30));
                return;
            }

            await _host.ClickOverSocketAsync(prompt, "Approve");
        });

        await AssertEverythingHappenedOnceAsync(id);
        Assert.True(_host.Slack.SocketConnections.Count >= 4);
    }

    [Fact]
    public async Task An_envelope_delivered_twice_is_handled_once()
    {
        var open = await _host.Slack.WaitForSocketConnectionsAsync(2);
        var payload = new JsonObject
        {
            ["team_id"] = SlackBotHost.TeamId, ["channel_id"] = SlackBotHost.ChannelId, ["user_id"] = SlackBotHost.RequesterId,
            ["user_name"] = "requester", ["command"] = "/prequel", ["text"] = "connect mydb", ["api_app_id"] = "A0123456789",
            ["response_url"] = _host.Slack.HooksUrl + "commands/dup", ["trigger_id"] = "1.2.3",
        };

        var first = await _host.Slack.SendEnvelopeAsync("slash_commands", payload, open[0], envelopeId: "env-connect-1");
        var again = await _host.Slack.SendEnvelopeAsync("slash_commands", payload, open[1], envelopeId: "env-connect-1", retryAttempt: 1);

        Assert.Equal(first.ToJsonString(), again.ToJsonString());
        var listing = Assert.Single(await _host.OnboardingsAsync());
        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);
        var click = await _host.Slack.SendEnvelopeAsync("interactive", _host.ClickPayload(prompt, "Approve"), open[1], envelopeId: "env-click-1");
        var clickAgain = await _host.Slack.SendEnvelopeAsync("interactive", _host.ClickPayload(prompt, "Approve"), open[0], envelopeId: "env-click-1", retryAttempt: 1);
        await _host.PendingPromptAsync(StepNames.SecurityGroup);

        Assert.Equal(click.ToJsonString(), clickAgain.ToJsonString());
        var agg = await _host.LoadAsync(listing.Id);
        var decided = Assert.Single(agg.Approvals, a => a.Step == StepNames.PublicAccess);
        Assert.Equal(ApprovalState.Approved, decided.State);
        Assert.Empty(_host.Slack.CallsTo("chat.postEphemeral"));
        Assert.Single(_host.Slack.CallsTo("chat.postMessage"), c => c.Body["thread_ts"] is null);
    }
}
