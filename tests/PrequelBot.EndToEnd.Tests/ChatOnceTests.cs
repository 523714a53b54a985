using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// A node killed (SIGKILL) after Slack kept a post and before the bot learnt its ts: the fake Slack stores the message
/// and holds its answer back, the host is killed while it waits, and a new host on the same state takes over. The outbox
/// finds the message by its metadata (conversations.replies for a prompt, conversations.history for the card) and
/// adopts it: the channel shows each card and prompt once (docs/chat-outbox.md).
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class ChatOnceTests : IAsyncLifetime
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
    public async Task Kill_9_right_after_Slack_answers_a_prompt_post_leaves_one_prompt_in_the_thread_and_the_onboarding_completes()
    {
        // Arrange: the create-user prompt's post is kept by Slack and its answer held back.
        var settings = _world.Settings(_world.Sqlite());
        var host = await _world.StartHostAsync("node", settings);
        var held = _world.SlackApi.HoldAnswer(call => call.Method == "chat.postMessage" && call.Body["thread_ts"] is not null
            && (call.Body["text"]?.GetValue<string>() ?? "").StartsWith($"Approval needed for {StepNames.CreateUser} ", StringComparison.Ordinal));

        // Act: once Slack holds the answer, kill the host and start another on the same SQLite file.
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        var killed = false;
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, id, clickVia: async prompt =>
        {
            if (prompt.Step == StepNames.CreateUser && !killed)
            {
                await held.Delivered.WaitAsync(EndToEndWorld.Patience);
                host.Kill();
                Assert.False(host.ShutDownGracefully, host.Tail());
                killed = true;
                host = await _world.StartHostAsync("node", settings);
            }

            return host;
        });

        // Assert: the thread holds one create-user prompt (found again with conversations.replies), and everything else once.
        Assert.True(killed, "the create-user prompt was never posted");
        held.Release();
        var thread = _world.SlackApi.Messages.Values.Where(m => m.ThreadTs is not null && (m.Text ?? "").StartsWith($"Approval needed for {StepNames.CreateUser} of {id} ", StringComparison.Ordinal));
        Assert.Single(thread);
        Assert.Contains(_world.SlackApi.CallsTo("conversations.replies"), c => c.Body["include_all_metadata"]?.GetValue<string>() == "true");
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    [Fact]
    public async Task Kill_9_right_after_Slack_answers_the_card_post_leaves_one_card_and_the_onboarding_completes()
    {
        // Arrange: the card's post is kept by Slack and its answer held back.
        var settings = _world.Settings(_world.Sqlite());
        var host = await _world.StartHostAsync("node", settings);
        var held = _world.SlackApi.HoldAnswer(call => call.Method == "chat.postMessage" && call.Body["thread_ts"] is null
            && (call.Body["text"]?.GetValue<string>() ?? "").StartsWith("Onboarding ob-", StringComparison.Ordinal));

        // Act
        await _world.SlackChannel.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        await held.Delivered.WaitAsync(EndToEndWorld.Patience);
        host.Kill();
        Assert.False(host.ShutDownGracefully, host.Tail());
        held.Release();
        host = await _world.StartHostAsync("node", settings);
        var id = await _world.SlackChannel.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        await _onboarding.ApproveUntilCompletedAsync(_world.SlackChannel, host, id);

        // Assert: one card (found again in the channel history by its metadata), updated to completed, one prompt per step.
        Assert.Single(_world.SlackApi.Messages.Values, m => m.ThreadTs is null && (m.Text ?? "").StartsWith($"Onboarding {id} ", StringComparison.Ordinal));
        Assert.Contains(_world.SlackApi.CallsTo("conversations.history"), c => c.Body["include_all_metadata"]?.GetValue<string>() == "true");
        await _onboarding.AssertEveryChangeExactlyOnceAsync(_world.SlackChannel, id);
    }

    [Fact]
    public async Task Kill_9_right_after_the_Connector_answers_a_prompt_post_leaves_one_replacement_prompt_and_one_decision()
    {
        // Arrange: the create-user prompt's POST is kept by the Connector and its answer held back.
        var teams = _world.Teams;
        var settings = _world.Settings(_world.Sqlite());
        var host = await _world.StartHostAsync("node", settings);
        var held = teams.Connector.HoldAnswer(body => TeamsChannel.IsPromptFor(body, StepNames.CreateUser));

        // Act: once the Connector holds the answer, kill the host and start another; the click goes to the earlier copy.
        await teams.CommandAsync(host, $"connect {EndToEndWorld.Alias} --user {_world.User}");
        var id = await teams.WaitForOnboardingIdAsync(EndToEndWorld.Patience);
        ChannelPrompt? earlier = null;
        await _onboarding.ApproveUntilCompletedAsync(teams, id, clickVia: async prompt =>
        {
            if (prompt.Step == StepNames.CreateUser && earlier is null)
            {
                Assert.Equal(await held.Delivered.WaitAsync(EndToEndWorld.Patience), prompt.MessageId);
                earlier = prompt;
                host.Kill();
                Assert.False(host.ShutDownGracefully, host.Tail());
                host = await _world.StartHostAsync("node", settings);
                // The new host posts the replacement; the click below still lands on the earlier copy.
                await Eventually.Async(() => Task.FromResult(teams.Prompts().Count(p => TeamsChannel.IsPromptFor(p.Prompt, StepNames.CreateUser)) == 2),
                    "the replacement create-user prompt is posted", EndToEndWorld.Patience, _world.Diagnostics);
            }

            return host;
        });
        held.Release();

        // Assert: two copies of the create-user prompt; the replacement says so and shows the one decision.
        Assert.NotNull(earlier);
        var copies = teams.Prompts().Where(p => TeamsChannel.IsPromptFor(p.Prompt, StepNames.CreateUser)).ToList();
        Assert.Equal(2, copies.Count);
        var replacement = Assert.Single(copies, p => p.Id != earlier.MessageId);
        Assert.Contains(TeamsChannel.Texts(replacement.Prompt), t => t.Contains("replaces an earlier one", StringComparison.Ordinal));
        Assert.False(TeamsChannel.ShowsButtons(replacement.Prompt), "the decided replacement still shows buttons");
        Assert.Contains(TeamsChannel.Texts(replacement.Prompt), t => t.StartsWith("Approved by " + TeamsChannel.Approver.Name, StringComparison.Ordinal));
        Assert.Equal(1, teams.CardPostCount());
        Assert.Equal(OnboardingDriver.ApprovedSteps.Append(StepNames.CreateUser).Order(), teams.PromptPostSteps().Order());

        // A second click, on the earlier copy, decides nothing: the bot answers it, and the onboarding stays completed.
        var repliesBefore = teams.Connector.Delivered.Count(c => c.Method == "POST" && c.ActivityId is not null);
        await teams.ApproveAsync(host, earlier);
        await Eventually.Async(() => Task.FromResult(teams.Connector.Delivered.Count(c => c.Method == "POST" && c.ActivityId is not null) > repliesBefore),
            "the bot answers the click on the earlier copy", EndToEndWorld.Patience, _world.Diagnostics);
        Assert.Equal(OnboardingStates.Completed, teams.CardState(id));
        var role = await _world.RoleAsync();
        Assert.Equal(1, role.Count);
        Assert.Single(_world.Prequel.Sources);
    }
}
