using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using PrequelBot.Chat.Slack.Tests.Fakes;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>An approval prompt as the channel sees it: a thread reply that still carries the Approve button.</summary>
public sealed record SlackPrompt(string Ts, string ThreadTs, string OnboardingId, string Step, string ApprovalId);

/// <summary>
/// One Slack workspace and channel around the hosts: people type <c>/prequel …</c> and click buttons (signed
/// requests to a host's <c>/slack/commands</c> and <c>/slack/interactions</c>, as Slack sends them), and the
/// channel is what the bot posted to the <see cref="FakeSlackApi"/>.
/// </summary>
public sealed partial class SlackWorkspace(FakeSlackApi api) : IDisposable
{
    public const string SigningSecret = "e2e-signing-secret-0123456789abcdef";
    public const string Channel = "C0E2ECHAN";
    public const string Requester = "UREQUESTER";
    public const string Approver = "UAPPROVER";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public FakeSlackApi Api { get; } = api;

    /// <summary>Types <c>/prequel {text}</c> in the channel, sent to <paramref name="host"/>; returns the acknowledgement body.</summary>
    public async Task<string> CommandAsync(HostProcess host, string text, string user = Requester)
    {
        var body = SlackSigner.Form(
            ("token", "unused"), ("team_id", "T0E2E"), ("team_domain", "e2e"), ("channel_id", Channel), ("channel_name", "data-eng"),
            ("user_id", user), ("user_name", user.ToLowerInvariant()), ("command", "/prequel"), ("text", text),
            ("response_url", Api.HooksUrl + "commands/T0E2E/1/e2e"), ("trigger_id", "1.2.e2e"));
        using var request = SlackSigner.SignedForm(new Uri(host.BaseAddress, "/slack/commands").ToString(), SigningSecret, body);
        using var response = await _http.SendAsync(request);
        var content = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/slack/commands answered {(int)response.StatusCode}: {content}\n{host.Tail()}");
        return content;
    }

    /// <summary>
    /// Sends <c>/prequel {text}</c>; returns the reply text from the acknowledgement or, when the host answered "Working on
    /// it", from the later <c>response_url</c> post (which must be ephemeral).
    /// </summary>
    public async Task<string> ReplyAsync(HostProcess host, string text)
    {
        const string hook = "hooks/commands/T0E2E/1/e2e";
        var before = Api.Calls.Count(c => c.Method == hook);
        var acknowledgement = await CommandAsync(host, text);
        var reply = JsonNode.Parse(acknowledgement)?["text"]?.GetValue<string>() ?? acknowledgement;
        if (!reply.Contains("Working on it", StringComparison.Ordinal)) return reply;
        await Eventually.Async(() => Task.FromResult(Api.Calls.Count(c => c.Method == hook) > before), $"the late reply to {text}", TimeSpan.FromSeconds(60));
        var late = Api.Calls.Where(c => c.Method == hook).Skip(before).First();
        Assert.Equal("ephemeral", late.Body["response_type"]?.GetValue<string>());
        return late.Body["text"]?.GetValue<string>() ?? late.Body.ToJsonString();
    }

    /// <summary>Clicks Approve (or Reject) on <paramref name="prompt"/>, sent to <paramref name="host"/>.</summary>
    public async Task ClickAsync(HostProcess host, SlackPrompt prompt, bool approve = true, string user = Approver)
    {
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = user, ["username"] = user.ToLowerInvariant(), ["team_id"] = "T0E2E" },
            ["team"] = new JsonObject { ["id"] = "T0E2E", ["domain"] = "e2e" },
            ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = prompt.Ts, ["channel_id"] = Channel, ["is_ephemeral"] = false, ["thread_ts"] = prompt.ThreadTs },
            ["channel"] = new JsonObject { ["id"] = Channel, ["name"] = "data-eng" },
            ["message"] = new JsonObject { ["type"] = "message", ["ts"] = prompt.Ts, ["thread_ts"] = prompt.ThreadTs },
            ["response_url"] = Api.HooksUrl + "actions/T0E2E/2/e2e",
            ["trigger_id"] = "3.4.e2e",
            ["actions"] = new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "button", ["action_id"] = approve ? "prequel_approve" : "prequel_reject", ["block_id"] = "b",
                    ["value"] = prompt.ApprovalId, ["action_ts"] = "1531420712.345678",
                },
            },
        };
        using var request = SlackSigner.SignedForm(new Uri(host.BaseAddress, "/slack/interactions").ToString(), SigningSecret, SlackSigner.Form(("payload", payload.ToJsonString())));
        using var response = await _http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/slack/interactions answered {(int)response.StatusCode}\n{host.Tail()}");
    }

    /// <summary>
    /// The onboarding cards: top-level bot messages delivered to the channel (by <c>chat.postMessage</c> calls not
    /// answered by a fault, so a duplicate post shows and a post answered 429 does not).
    /// </summary>
    public IReadOnlyList<FakeSlackCall> CardPosts() =>
        [.. Api.DeliveredCallsTo("chat.postMessage").Where(c => c.Body["thread_ts"] is null)];

    /// <summary>Approval prompts delivered (by <c>chat.postMessage</c> calls in a thread not answered by a fault), per step.</summary>
    public IReadOnlyList<string> PromptPostSteps() =>
        [.. Api.DeliveredCallsTo("chat.postMessage").Where(c => c.Body["thread_ts"] is not null)
            .Select(c => PromptHead().Match(c.Body["text"]?.GetValue<string>() ?? "")).Where(m => m.Success).Select(m => m.Groups["step"].Value)];

    /// <summary>The id of the first onboarding card in the channel (other than those in <paramref name="except"/>); waits for it.</summary>
    public async Task<string> WaitForOnboardingIdAsync(TimeSpan timeout, params string[] except)
    {
        string? id = null;
        await Eventually.Async(() =>
        {
            id = CardPosts().Select(c => CardHead().Match(c.Body["text"]?.GetValue<string>() ?? ""))
                .FirstOrDefault(m => m.Success && !except.Contains(m.Groups["id"].Value))?.Groups["id"].Value;
            return Task.FromResult(id is not null);
        }, "an onboarding card is posted to the channel", timeout);
        return id!;
    }

    /// <summary>The state word the card of <paramref name="onboardingId"/> shows now (after every <c>chat.update</c>).</summary>
    public string? CardState(string onboardingId) =>
        Api.Messages.Values.Where(m => m.ThreadTs is null)
            .Select(m => CardHead().Match(m.Text ?? "")).Where(m => m.Success && m.Groups["id"].Value == onboardingId)
            .Select(m => m.Groups["state"].Value).FirstOrDefault();

    /// <summary>The card's full text (for failure messages).</summary>
    public string CardText(string onboardingId) =>
        Api.Messages.Values.FirstOrDefault(m => m.ThreadTs is null && (m.Text ?? "").Contains(onboardingId, StringComparison.Ordinal))?.Text ?? "(no card)";

    /// <summary>Prompts of <paramref name="onboardingId"/> that still show buttons.</summary>
    public IReadOnlyList<SlackPrompt> PendingPrompts(string onboardingId) =>
        [.. Api.Messages.Values.Where(m => m.ThreadTs is not null).Select(m => AsPendingPrompt(m)).OfType<SlackPrompt>().Where(p => p.OnboardingId == onboardingId)];

    public void Dispose() => _http.Dispose();

    private static SlackPrompt? AsPendingPrompt(FakeSlackMessage message)
    {
        var head = PromptHead().Match(message.Text ?? "");
        if (!head.Success || message.Blocks is null) return null;
        var approve = message.Blocks.OfType<JsonObject>()
            .Where(b => b["type"]?.GetValue<string>() == "actions")
            .SelectMany(b => b["elements"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .FirstOrDefault(e => e["action_id"]?.GetValue<string>() == "prequel_approve");
        return approve?["value"]?.GetValue<string>() is { } approvalId
            ? new SlackPrompt(message.Ts, message.ThreadTs!, head.Groups["id"].Value, head.Groups["step"].Value, approvalId)
            : null;
    }

    // The card's title names its kind: "Onboarding" for connect, "Disconnect" for disconnect, "Rotate" for rotate.
    [GeneratedRegex(@"^(?:Onboarding|Disconnect|Rotate) (?<id>ob-[a-z0-9]+) of \S+: (?<state>[a-z-]+) ")]
    private static partial Regex CardHead();

    [GeneratedRegex(@"^Approval needed for (?<step>[a-z-]+) of (?<id>ob-[a-z0-9]+) ")]
    private static partial Regex PromptHead();
}

/// <summary>Polling with a generous deadline: the machine may be loaded, so nothing is assumed to take a fixed time.</summary>
public static class Eventually
{
    public static async Task Async(Func<Task<bool>> condition, string what, TimeSpan timeout, Func<string>? diagnostics = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }

        Assert.Fail($"Timed out after {timeout.TotalSeconds:0} s waiting until {what}.{(diagnostics is null ? "" : "\n" + diagnostics())}");
    }
}
