using System.Net;
using System.Text.Json.Nodes;
using PrequelBot.Chat.Teams.Tests.Fakes;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Host.Tests;

/// <summary>
/// Who may do what through <c>POST /api/messages</c> (docs/security.md): tenants, channels and identities. Every refusal
/// is shown to change nothing: no onboarding, no step, the prompt still pending.
/// </summary>
public sealed partial class TeamsHostTests
{
    private const string OtherTenant = "0f1e2d3c-4b5a-4697-8877-665544332211";

    private async Task RestartWithAsync(Dictionary<string, string?> extra)
    {
        await _host.DisposeAsync();
        foreach (var (k, v) in extra) _settings[k] = v;
        _host = StartHost();
    }

    private static JsonObject InTenant(JsonObject activity, string? conversationTenant, string? channelDataTenant)
    {
        var conversation = activity["conversation"]!.AsObject();
        if (conversationTenant is null) conversation.Remove("tenantId"); else conversation["tenantId"] = conversationTenant;
        if (channelDataTenant is null) activity.Remove("channelData");
        else activity["channelData"] = new JsonObject { ["tenant"] = new JsonObject { ["id"] = channelDataTenant } };
        return activity;
    }

    private static JsonObject WithoutAadObjectId(JsonObject activity)
    {
        activity["from"]!.AsObject().Remove("aadObjectId");
        return activity;
    }

    [Theory]
    [InlineData(OtherTenant, OtherTenant)]
    [InlineData(TeamsBotHost.TenantId, OtherTenant)]
    [InlineData(OtherTenant, null)]
    [InlineData(null, null)]
    public async Task An_activity_from_another_tenant_or_with_disagreeing_or_missing_tenants_is_403_and_changes_nothing(string? conversationTenant, string? channelDataTenant)
    {
        await RestartWithAsync(new() { ["Teams:AllowedTenantIds:0"] = TeamsBotHost.TenantId });
        var connect = InTenant(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), conversationTenant, channelDataTenant);

        using var response = await _host.PostAsync(connect, _host.ValidToken());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await AssertNothingHappenedAsync();
    }

    [Fact]
    public async Task Teams_TenantId_alone_also_limits_the_tenants_served()
    {
        await RestartWithAsync(new() { ["Teams:TenantId"] = TeamsBotHost.TenantId });
        var connect = InTenant(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), OtherTenant, OtherTenant);

        using var response = await _host.PostAsync(connect, _host.ValidToken());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await AssertNothingHappenedAsync();
    }

    [Fact]
    public async Task Webchat_carrying_a_Slack_approvers_id_is_403_and_the_prompt_stays_pending()
    {
        await RestartWithAsync(new() { ["Approvals:Approvers:1"] = "UAPPROVER" });
        using (await _host.PostAsync(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), _host.ValidToken())) { }
        var (promptId, prompt) = await FirstPendingPromptAsync();
        var click = _host.Message(new TeamsUser("UAPPROVER", "Slack Approver", "UAPPROVER"), value: SubmitData(prompt, "Approve"), replyToId: promptId);
        click["channelId"] = "webchat";
        var webchatToken = _authority.MintToken(_connector.ServiceUrl, kid: FakeBotFrameworkAuthority.WebchatKey);

        using var response = await _host.PostAsync(click, webchatToken);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await AssertPromptStillPendingAsync(promptId);
    }

    [Fact]
    public async Task A_Slack_approvers_id_in_a_Teams_click_is_refused_and_the_prompt_stays_pending()
    {
        await RestartWithAsync(new() { ["Approvals:Approvers:1"] = "slack:UAPPROVER" });
        using (await _host.PostAsync(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), _host.ValidToken())) { }
        var (promptId, prompt) = await FirstPendingPromptAsync();
        // The Slack id both as the Teams user id and as the AAD object id: neither is that Slack user.
        var click = _host.Message(new TeamsUser("UAPPROVER", "Slack Approver", "UAPPROVER"), value: SubmitData(prompt, "Approve"), replyToId: promptId);

        using var response = await _host.PostAsync(click, _host.ValidToken());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Texts((await ReplyToAsync(click)).Body), t => t.StartsWith("Not allowed", StringComparison.Ordinal));
        await AssertPromptStillPendingAsync(promptId);
    }

    [Fact]
    public async Task A_Teams_user_without_aadObjectId_can_read_but_not_request_or_decide()
    {
        var status = WithoutAadObjectId(_host.Message(TeamsBotHost.Approver, "<at>PrequelBot</at> status"));
        using (var response = await _host.PostAsync(status, _host.ValidToken())) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("No active or recent onboardings.", Texts((await ReplyToAsync(status)).Body));

        var connect = WithoutAadObjectId(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"));
        using (var response = await _host.PostAsync(connect, _host.ValidToken())) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Texts((await ReplyToAsync(connect)).Body), t => t.StartsWith("Not allowed: PrequelBot cannot tell who you are", StringComparison.Ordinal));
        Assert.Empty(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None));

        using (await _host.PostAsync(_host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb"), _host.ValidToken())) { }
        var (promptId, prompt) = await FirstPendingPromptAsync();
        var click = WithoutAadObjectId(_host.Message(TeamsBotHost.Approver, value: SubmitData(prompt, "Approve"), replyToId: promptId));
        using (var response = await _host.PostAsync(click, _host.ValidToken())) Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Texts((await ReplyToAsync(click)).Body), t => t.StartsWith("Not allowed", StringComparison.Ordinal));
        await AssertPromptStillPendingAsync(promptId);
    }

    [Fact]
    public async Task A_connect_from_someone_not_in_Approvals_Requesters_is_refused_and_starts_nothing()
    {
        await RestartWithAsync(new() { ["Approvals:Requesters:0"] = "teams:" + TeamsBotHost.Requester.AadObjectId });
        var connect = _host.Message(TeamsBotHost.Stranger, "<at>PrequelBot</at> connect mydb");

        using var response = await _host.PostAsync(connect, _host.ValidToken());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(Texts((await ReplyToAsync(connect)).Body), t => t.StartsWith("Not allowed: you are not in Approvals:Requesters", StringComparison.Ordinal));
        Assert.Empty(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
        Assert.Empty(_world.Applies);

        var allowed = _host.Message(TeamsBotHost.Requester, "<at>PrequelBot</at> connect mydb");
        using (await _host.PostAsync(allowed, _host.ValidToken())) { }
        Assert.Contains(Texts((await ReplyToAsync(allowed)).Body), t => t.StartsWith("Started onboarding ob-", StringComparison.Ordinal));
    }

    /// <summary>The one onboarding's first approval is still pending, nothing was applied, and the prompt still has its buttons.</summary>
    private async Task AssertPromptStillPendingAsync(string promptId)
    {
        var onboarding = Assert.Single(await _host.State.ListRecentWithCurrentStepAsync(10, CancellationToken.None));
        var aggregate = (await _host.State.LoadAsync(onboarding.Id, CancellationToken.None))!;
        var approval = Assert.Single(aggregate.Approvals);
        Assert.Equal(ApprovalState.Pending, approval.State);
        Assert.Empty(approval.Decisions);
        Assert.False(_world.Applies.ContainsKey(approval.Step), $"{approval.Step} was applied");
        Assert.True(Content(_connector.Activities[promptId])["actions"] is JsonArray { Count: > 0 }, "the prompt keeps its buttons");
    }
}
