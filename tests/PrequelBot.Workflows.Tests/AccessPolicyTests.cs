using Microsoft.Extensions.Options;
using PrequelBot.Commands;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Workflows.Tests;

/// <summary>Platform-qualified ids and the requester gate (docs/security.md, "Identities" and "Who may do what").</summary>
public sealed class AccessPolicyTests
{
    private const string TeamsGuid = "7faf8ab2-3d56-4244-b585-20c8a42ed2b8";
    private static readonly ChatUser SlackAlex = new(ChatPlatforms.Slack, "UALEX");
    private static readonly ChatUser TeamsMegan = new(ChatPlatforms.Teams, TeamsGuid);

    private static ApprovalPolicy Policy(string[] approvers, string[]? requesters = null) =>
        new(new StaticMonitor(new ApprovalOptions { Approvers = [.. approvers], Requesters = [.. requesters ?? []] }));

    [Theory]
    [InlineData("UALEX", "slack", "UALEX")]
    [InlineData("slack:W0GRID", "slack", "W0GRID")]
    [InlineData("teams:7FAF8AB2-3D56-4244-B585-20C8A42ED2B8", "teams", TeamsGuid)]
    [InlineData(TeamsGuid, "teams", TeamsGuid)]
    [InlineData("test:someone", "test", "someone")]
    public void Entries_name_their_platform_explicitly_or_by_their_shape(string entry, string platform, string id)
    {
        Assert.Equal(new ChatUserId(platform, id), ChatUserId.Parse(entry, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("alex")]
    [InlineData("slack:" + TeamsGuid)]
    [InlineData("teams:UALEX")]
    [InlineData("")]
    public void Entries_of_no_known_form_are_refused_with_the_forms_named(string entry)
    {
        Assert.Null(ChatUserId.Parse(entry, out var error));
        Assert.Contains("slack:U…", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_Slack_id_never_matches_a_Teams_user_nor_the_reverse()
    {
        var policy = Policy(["UALEX", "teams:" + TeamsGuid]);

        Assert.True(policy.IsApprover(SlackAlex));
        Assert.True(policy.IsApprover(TeamsMegan));
        Assert.False(policy.IsApprover(new ChatUser(ChatPlatforms.Teams, "UALEX")));
        Assert.False(policy.IsApprover(new ChatUser(ChatPlatforms.Slack, TeamsGuid)));
        Assert.False(policy.IsApprover(TeamsMegan with { CanOnlyRead = true }));
    }

    [Theory]
    [InlineData("help", null)]
    [InlineData("status", null)]
    [InlineData("plan", "cannot tell who you are")]
    [InlineData("connect", "cannot tell who you are")]
    [InlineData("audit", "cannot tell who you are")]
    public void A_user_without_an_identity_may_only_read(string command, string? refusal)
    {
        var why = Policy([]).WhyNotAllowedToRun(TeamsMegan with { CanOnlyRead = true }, command);

        if (refusal is null) Assert.Null(why);
        else Assert.Contains(refusal, why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("connect", false)]
    [InlineData("retry", false)]
    [InlineData("rotate", false)]
    [InlineData("disconnect", false)]
    [InlineData("some-new-command", false)]
    [InlineData("plan", true)]
    [InlineData("check", true)]
    [InlineData("audit", true)]
    [InlineData("status", true)]
    [InlineData("help", true)]
    public void With_requesters_set_changing_and_unknown_commands_are_closed_to_others_and_reading_ones_stay_open(string command, bool open)
    {
        var policy = Policy(["UAPPROVER"], ["teams:" + TeamsGuid]);

        Assert.Equal(open, policy.WhyNotAllowedToRun(SlackAlex, command) is null);
        Assert.Null(policy.WhyNotAllowedToRun(TeamsMegan, command));
    }

    [Fact]
    public void An_approver_may_always_cancel()
    {
        var policy = Policy(["UALEX"], ["UREQUESTER"]);

        Assert.Null(policy.WhyNotAllowedToRun(SlackAlex, "cancel"));
        Assert.NotNull(policy.WhyNotAllowedToRun(SlackAlex, "connect"));
    }

    [Fact]
    public void Every_parsed_command_has_a_name_in_the_gate_table()
    {
        foreach (var text in new[] { "connect mydb", "plan mydb", "status", "cancel ob-7k2m9q", "retry ob-7k2m9q", "help" })
            Assert.Contains(OnboardingCommands.CommandName(CommandParser.Parse(text).Command!), ApprovalPolicy.Commands.Keys);
    }

    [Fact]
    public void The_validator_names_the_key_of_a_bad_requester()
    {
        var result = new ApprovalOptionsValidator().Validate(null, new ApprovalOptions { Requesters = ["UOK", "not an id"] });

        Assert.True(result.Failed);
        Assert.Contains("Approvals:Requesters:1", result.FailureMessage, StringComparison.Ordinal);
    }

    private sealed class StaticMonitor(ApprovalOptions value) : IOptionsMonitor<ApprovalOptions>
    {
        public ApprovalOptions CurrentValue => value;
        public ApprovalOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<ApprovalOptions, string?> listener) => null;
    }
}
