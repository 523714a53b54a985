using System.Net;
using System.Text.Json.Nodes;
using PrequelBot.Chat.Slack;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

/// <summary>
/// Who may do what through signed Slack requests (docs/security.md): workspaces, requesters and quorum. Each refusal is
/// one ephemeral line and changes nothing.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class SlackAccessHostTests : IAsyncLifetime
{
    private const string OtherTeam = "T0OTHER999";
    private const string SecondApprover = "UAPPROVER2";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-slackaccess-" + Guid.NewGuid().ToString("N"));
    private SlackBotHost _host = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _host = await SlackBotHost.StartAsync(_directory, settings: new Dictionary<string, string?>
        {
            ["Slack:AllowedTeamIds:0"] = SlackBotHost.TeamId,
            ["Approvals:Approvers:1"] = SecondApprover,
            ["Approvals:Requesters:0"] = "slack:" + SlackBotHost.RequesterId,
            ["Approvals:Steps:public-access:Required"] = "2",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private static string Text(JsonObject? reply) => reply?["text"]?.GetValue<string>() ?? "";

    private async Task<string> ConnectAsync()
    {
        var (status, reply) = await _host.CommandAsync("connect mydb");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("Started onboarding", Text(reply), StringComparison.Ordinal);
        return Assert.Single(await _host.OnboardingsAsync()).Id;
    }

    [Fact]
    public async Task A_command_from_another_workspace_gets_one_ephemeral_refusal_and_starts_nothing()
    {
        var (status, reply) = await _host.CommandAsync("connect mydb", teamId: OtherTeam);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ephemeral", reply?["response_type"]?.GetValue<string>());
        Assert.Equal(SlackWorkspaceGate.RefusalText, Text(reply));
        Assert.Empty(await _host.OnboardingsAsync());
        Assert.Empty(_host.Slack.Calls);
    }

    [Fact]
    public async Task An_Enterprise_Grid_org_in_the_list_is_served_for_any_of_its_workspaces()
    {
        await _host.DisposeAsync();
        _host = await SlackBotHost.StartAsync(_directory, settings: new Dictionary<string, string?> { ["Slack:AllowedTeamIds:0"] = "E0GRID0001" });
        var body = SlackBotHost.Form(("team_id", OtherTeam), ("enterprise_id", "E0GRID0001"), ("channel_id", SlackBotHost.ChannelId),
            ("user_id", SlackBotHost.RequesterId), ("command", "/prequel"), ("text", "help"));

        using var response = await _host.SendAsync("/slack/commands", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(SlackWorkspaceGate.RefusalText, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_click_from_another_workspace_is_refused_on_its_response_url_and_changes_nothing()
    {
        var id = await ConnectAsync();
        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);
        var callsBefore = _host.Slack.Calls.Count;

        Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Approve", teamId: OtherTeam));

        await BotHost.EventuallyAsync(() => Task.FromResult(_host.Slack.Calls.Skip(callsBefore).Any(c => c.Method.StartsWith("hooks/actions/", StringComparison.Ordinal))),
            "the refusal is posted to the click's response_url", TimeSpan.FromSeconds(30));
        var refusal = Assert.Single(_host.Slack.Calls.Skip(callsBefore));
        Assert.Equal(SlackWorkspaceGate.RefusalText, Text(refusal.Body));
        Assert.Equal("ephemeral", refusal.Body["response_type"]?.GetValue<string>());
        var approval = Assert.Single((await _host.LoadAsync(id)).Approvals);
        Assert.Equal(ApprovalState.Pending, approval.State);
        Assert.Empty(approval.Decisions);
        Assert.False(_host.World.Applies.ContainsKey(StepNames.PublicAccess));
    }

    [Fact]
    public async Task A_connect_by_someone_not_in_Approvals_Requesters_is_refused_and_starts_nothing()
    {
        var (status, reply) = await _host.CommandAsync("connect mydb", SlackBotHost.OutsiderId);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("Not allowed: you are not in Approvals:Requesters", Text(reply), StringComparison.Ordinal);
        Assert.Empty(await _host.OnboardingsAsync());
        Assert.Empty(_host.World.Applies);

        var (_, plan) = await _host.CommandAsync("status", SlackBotHost.OutsiderId);
        Assert.DoesNotContain("Not allowed", Text(plan), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_approver_may_cancel_without_being_a_requester_but_a_stranger_may_not()
    {
        var id = await ConnectAsync();

        var (_, stranger) = await _host.CommandAsync("cancel " + id, SlackBotHost.OutsiderId);
        Assert.StartsWith("Not allowed", Text(stranger), StringComparison.Ordinal);
        Assert.NotEqual(OnboardingState.Cancelled, (await _host.LoadAsync(id)).Onboarding.State);

        var (_, approver) = await _host.CommandAsync("cancel " + id, SlackBotHost.ApproverId);
        Assert.DoesNotContain("Not allowed", Text(approver), StringComparison.Ordinal);
        Assert.Equal(OnboardingState.Cancelled, (await _host.LoadAsync(id)).Onboarding.State);
    }

    [Fact]
    public async Task Quorum_one_approval_of_two_waits_the_same_person_again_changes_nothing_and_a_second_approver_applies_it()
    {
        var id = await ConnectAsync();
        var prompt = await _host.PendingPromptAsync(StepNames.PublicAccess);

        Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Approve"));
        await BotHost.EventuallyAsync(() => Task.FromResult(SlackBotHost.Visible(_host.Slack.Messages[prompt.Ts]).Contains("1 of 2 approvals", StringComparison.Ordinal)),
            "the prompt shows 1 of 2 approvals", TimeSpan.FromSeconds(30));
        Assert.True(SlackBotHost.HasButtons(_host.Slack.Messages[prompt.Ts]));
        Assert.False(_host.World.Applies.ContainsKey(StepNames.PublicAccess));
        var version = (await _host.LoadAsync(id)).Onboarding.Version;

        Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Approve"));
        await _host.Slack.WaitForCallsAsync("chat.postEphemeral", timeout: TimeSpan.FromSeconds(30));
        Assert.Equal(version, (await _host.LoadAsync(id)).Onboarding.Version);
        Assert.Single(Assert.Single((await _host.LoadAsync(id)).Approvals).Decisions);

        Assert.Equal(HttpStatusCode.OK, await _host.ClickAsync(prompt, "Approve", SecondApprover));
        await BotHost.EventuallyAsync(() => Task.FromResult(_host.World.Applies.ContainsKey(StepNames.PublicAccess)),
            "public-access is applied after the second approver", TimeSpan.FromSeconds(60));
        var approval = (await _host.LoadAsync(id)).Approvals.First(a => a.Step == StepNames.PublicAccess);
        Assert.Equal(ApprovalState.Approved, approval.State);
        Assert.Equal([SlackBotHost.ApproverId, SecondApprover], approval.Approvers.Select(a => a.Id));
    }
}
