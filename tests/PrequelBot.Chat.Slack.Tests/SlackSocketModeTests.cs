using System.Net;
using System.Text.Json.Nodes;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Workflows.Chat;

namespace PrequelBot.Chat.Slack.Tests;

/// <summary>
/// Socket Mode against the fake Slack's WebSocket side (real <c>apps.connections.open</c>, real WebSocket frames, the
/// envelope format of https://docs.slack.dev/apis/events-api/using-socket-mode), with recording command and decision
/// handlers behind the adapter.
/// </summary>
public sealed class SlackSocketModeTests : IAsyncLifetime
{
    private SlackTestHost _host = null!;

    public async Task InitializeAsync() => _host = await SlackTestHost.StartAsync(socketMode: true);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private JsonObject Command(string text, string? responseUrl = null) => new()
    {
        ["token"] = "deprecated",
        ["team_id"] = "T1DC2JH3J",
        ["team_domain"] = "testteamnow",
        ["channel_id"] = "C0123456789",
        ["channel_name"] = "data-eng",
        ["user_id"] = "U2CERLKJA",
        ["user_name"] = "roadrunner",
        ["command"] = "/prequel",
        ["text"] = text,
        ["api_app_id"] = "A0123456789",
        ["is_enterprise_install"] = "false",
        ["response_url"] = responseUrl ?? _host.Slack.HooksUrl + "commands/T1/1/abc",
        ["trigger_id"] = "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
    };

    private static JsonObject Click(string value = "ob-7k2m9q:security-group", string actionId = ApprovalActions.Approve) => new()
    {
        ["type"] = "block_actions",
        ["user"] = new JsonObject { ["id"] = "U2CERLKJA", ["username"] = "roadrunner", ["team_id"] = "T1DC2JH3J" },
        ["api_app_id"] = "A0123456789",
        ["team"] = new JsonObject { ["id"] = "T1DC2JH3J", ["domain"] = "testteamnow" },
        ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = "1531420700.000200", ["channel_id"] = "C0123456789", ["is_ephemeral"] = false },
        ["channel"] = new JsonObject { ["id"] = "C0123456789", ["name"] = "data-eng" },
        ["actions"] = new JsonArray(new JsonObject
        {
            ["type"] = "button", ["action_id"] = actionId, ["block_id"] = "ob-7k2m9q.security-group", ["value"] = value,
            ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = "Approve" }, ["action_ts"] = "1531420712.345678",
        }),
    };

    [Fact]
    public async Task With_an_app_token_the_bot_holds_two_greeted_connections_each_from_its_own_single_use_url()
    {
        var open = await _host.Slack.WaitForSocketConnectionsAsync(SlackSocketMode.Connections);

        Assert.Equal(2, open.Count);
        var opens = _host.Slack.CallsTo("apps.connections.open").ToList();
        Assert.Equal(2, opens.Count);
        Assert.All(opens, c => Assert.Equal("Bearer " + _host.Slack.AppToken, c.Authorization));
        Assert.DoesNotContain(_host.Logs.Lines, l => l.Contains("ticket=", StringComparison.Ordinal) || l.Contains(_host.Slack.AppToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_slash_command_envelope_is_acknowledged_with_the_payload_the_http_endpoint_answers()
    {
        await _host.Slack.WaitForSocketConnectionsAsync(2);

        var ack = await _host.Slack.SendEnvelopeAsync("slash_commands", Command("status"));
        using var http = await _host.Client.SendAsync(SlackSigner.SignedForm("/slack/commands", SlackTestHost.Secret, SlackSigner.Form(
            ("team_id", "T1DC2JH3J"), ("channel_id", "C0123456789"), ("user_id", "U2CERLKJA"), ("user_name", "roadrunner"),
            ("command", "/prequel"), ("text", "status"), ("response_url", _host.Slack.HooksUrl + "commands/T1/1/abc")), null));

        Assert.Equal(HttpStatusCode.OK, http.StatusCode);
        Assert.Equal(JsonNode.Parse(await http.Content.ReadAsStringAsync())!.ToJsonString(), ack["payload"]!.ToJsonString());
        Assert.Equal("You said: status", (string?)ack["payload"]!["text"]);
        Assert.Equal(2, _host.Handler.Requests.Count);
        Assert.All(_host.Handler.Requests, r => Assert.Equal("T1DC2JH3J", (string?)JsonNode.Parse(r.Conversation.AdapterData!)!["team_id"]));
    }

    [Fact]
    public async Task A_slow_command_is_acknowledged_in_time_and_answered_through_the_response_url()
    {
        await _host.Slack.WaitForSocketConnectionsAsync(2);
        _host.Handler.Delay = TimeSpan.FromSeconds(2.5);

        var ack = await _host.Slack.SendEnvelopeAsync("slash_commands", Command("plan orders-db"));

        Assert.Equal("Working on it…", (string?)ack["payload"]!["text"]);
        var late = Assert.Single(await _host.Slack.WaitForCallsAsync("hooks/commands/T1/1/abc"));
        Assert.Equal("You said: plan orders-db", (string?)late.Body["text"]);
    }

    [Fact]
    public async Task A_click_envelope_is_recorded_and_acknowledged_without_a_payload()
    {
        await _host.Slack.WaitForSocketConnectionsAsync(2);

        var ack = await _host.Slack.SendEnvelopeAsync("interactive", Click());

        Assert.Null(ack["payload"]);
        var decision = Assert.Single(_host.Decider.Decisions);
        Assert.Equal("ob-7k2m9q:security-group", decision.ApprovalId);
        Assert.True(decision.Approve);
        Assert.Equal("U2CERLKJA", decision.Actor.Id);
    }

    [Fact]
    public async Task An_envelope_delivered_twice_on_both_connections_is_handled_once_and_acknowledged_twice_alike()
    {
        var open = await _host.Slack.WaitForSocketConnectionsAsync(2);

        var first = await _host.Slack.SendEnvelopeAsync("slash_commands", Command("connect orders-db"), open[0], envelopeId: "env-dup-1");
        var retry = await _host.Slack.SendEnvelopeAsync("slash_commands", Command("connect orders-db"), open[1], envelopeId: "env-dup-1", retryAttempt: 1);
        var clickAck = await _host.Slack.SendEnvelopeAsync("interactive", Click(), open[1], envelopeId: "env-dup-2");
        var clickAgain = await _host.Slack.SendEnvelopeAsync("interactive", Click(), open[0], envelopeId: "env-dup-2", retryAttempt: 1);

        Assert.Single(_host.Handler.Requests);
        Assert.Single(_host.Decider.Decisions);
        Assert.Equal(first.ToJsonString(), retry.ToJsonString());
        Assert.Equal(clickAck.ToJsonString(), clickAgain.ToJsonString());
    }

    [Fact]
    public async Task A_refresh_request_replaces_the_connection_while_the_other_keeps_receiving()
    {
        var open = await _host.Slack.WaitForSocketConnectionsAsync(2);
        var refreshed = open[0];

        await refreshed.DisconnectAsync("refresh_requested");
        var meanwhile = await _host.Slack.SendEnvelopeAsync("slash_commands", Command("status"), open[1]);
        await WaitUntilAsync(() => !refreshed.IsOpen && _host.Slack.OpenSocketConnections.Count == 2);

        Assert.Equal("You said: status", (string?)meanwhile["payload"]!["text"]);
        Assert.Equal(3, _host.Slack.CallsTo("apps.connections.open").Count());
        var replacement = _host.Slack.OpenSocketConnections.Single(c => c.Id != open[1].Id);
        var after = await _host.Slack.SendEnvelopeAsync("slash_commands", Command("help"), replacement);
        Assert.Equal("You said: help", (string?)after["payload"]!["text"]);
    }

    [Fact]
    public async Task A_dropped_connection_is_reopened_with_back_off()
    {
        var open = await _host.Slack.WaitForSocketConnectionsAsync(2);

        open[0].Abort();
        await WaitUntilAsync(() => _host.Slack.OpenSocketConnections.Count == 2 && _host.Slack.OpenSocketConnections.All(c => c.Id != open[0].Id));

        Assert.Equal(3, _host.Slack.SocketConnections.Count);
    }

    [Fact]
    public async Task An_events_api_envelope_is_acknowledged_and_ignored()
    {
        await _host.Slack.WaitForSocketConnectionsAsync(2);

        var ack = await _host.Slack.SendEnvelopeAsync("events_api", new JsonObject { ["type"] = "event_callback" });

        Assert.Null(ack["payload"]);
        Assert.Empty(_host.Handler.Requests);
        Assert.Empty(_host.Decider.Decisions);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("The condition did not hold within 15 s.");
            await Task.Delay(25);
        }
    }
}
