using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// The answer to one verified Slack request, whichever transport delivered it: the JSON payload to acknowledge with
/// (null = an empty acknowledgement), or, for a malformed request, the one-line problem (HTTP answers 400 with it; a
/// Socket Mode envelope is acknowledged without a payload and the problem is logged).
/// </summary>
public sealed record SlackAnswer(JsonObject? Payload, string? Problem = null)
{
    public static readonly SlackAnswer Empty = new((JsonObject?)null);

    public bool IsMalformed => Problem is not null;

    /// <summary>
    /// <see cref="Payload"/> already serialized (UTF-8 JSON), when the answer is shared between requests; the payload
    /// is then never changed (Socket Mode clones it into its acknowledgement).
    /// </summary>
    public ReadOnlyMemory<byte>? Utf8Json { get; init; }

    public static SlackAnswer Malformed(string problem) => new(null, problem);

    /// <summary>An answer built once and served to many requests: its payload and that payload's UTF-8 JSON.</summary>
    public static SlackAnswer Shared(JsonObject payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        return new SlackAnswer(payload) { Utf8Json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(payload) };
    }
}

/// <summary>
/// The one code path after parsing, shared by <c>POST /slack/commands</c> / <c>POST /slack/interactions</c> and the
/// Socket Mode envelopes (<see cref="SlackSocketMode"/>): a slash command runs the command handler and answers within
/// <see cref="CommandReplyWindow"/> (else "Working on it…" and the late reply via <c>response_url</c>); a click is
/// recorded by the approval decider and a refused click answered privately. Both always answer within Slack's 3 s.
/// See docs/slack-socket-mode.md.
/// </summary>
public sealed partial class SlackInboundHandler(
    IChatCommandHandler commands,
    IApprovalDecider decider,
    SlackWebApiClient client,
    SlackBackgroundReplies background,
    SlackWorkspaceGate workspaces,
    TimeProvider clock,
    ILogger<SlackInboundHandler> logger)
{
    /// <summary>How long a command may take before the user gets "Working on it…" and the reply via <c>response_url</c>.</summary>
    public static readonly TimeSpan CommandReplyWindow = TimeSpan.FromSeconds(2);

    public const string WorkingOnIt = "Working on it…";

    private static SlackMessage WorkspaceRefusal =>
        new(SlackWorkspaceGate.RefusalText, [SlackBlockKit.Section(SlackBlockKit.Escape(SlackWorkspaceGate.RefusalText))]);

    private Task RefuseWorkspaceAsync(SlackApprovalClick click, CancellationToken cancellationToken)
    {
        if (!SlackResponseUrl.IsAllowed(click.ResponseUrl, client.ApiBaseUri)) return Task.CompletedTask;
        var refusal = Ephemeral(WorkspaceRefusal);
        refusal["replace_original"] = false;
        return client.PostToResponseUrlAsync(click.ResponseUrl!, refusal, cancellationToken);
    }

    /// <summary>
    /// A slash command whose fields (<c>user_id</c>, <c>channel_id</c>, <c>text</c>, <c>team_id</c>, …) are read through
    /// <paramref name="field"/>, which returns null for a missing or empty field. <paramref name="cancellationToken"/> is
    /// the caller's (Slack hanging up); the command itself runs on the application's token.
    /// </summary>
    public async Task<SlackAnswer> HandleCommandAsync(Func<string, string?> field, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field("ssl_check") == "1") return new SlackAnswer(new JsonObject());

        var userId = field("user_id");
        var channelId = field("channel_id");
        if (userId is null || channelId is null) return SlackAnswer.Malformed("The slash command needs user_id and channel_id.");
        // Slack:AllowedTeamIds (docs/security.md, "Tenancy"): one ephemeral line, and the command never runs.
        if (!workspaces.Allows(field)) return new SlackAnswer(Ephemeral(WorkspaceRefusal));

        var adapterData = new JsonObject
        {
            ["team_id"] = field("team_id"),
            ["enterprise_id"] = field("enterprise_id"),
        }.ToJsonString();
        var chatRequest = new ChatRequest(
            new ChatUser(ChatPlatforms.Slack, userId, field("user_name")),
            new ConversationRef(ChatPlatforms.Slack, channelId, adapterData),
            field("text")?.Trim() ?? string.Empty);
        LogCommand(logger, userId, channelId);

        // The command outlives this request when it is slow, so it runs on the application's token. A command that
        // writes (and may block a thread on SQLite or a synchronous Hangfire enqueue) starts on the thread pool, so the
        // window below still holds; a read-only one (status, help) starts on this thread: no thread hop on the hottest
        // path (bench/README.md, "Against the limit").
        var reply = StartsInline(chatRequest.Text)
            ? RunCommandAsync(chatRequest, background.Stopping)
            : Task.Run(() => RunCommandAsync(chatRequest, background.Stopping), CancellationToken.None);
        try
        {
            // No timer at all when the reply is already there (status, help, errors usually are).
            var quick = await reply.WaitAsync(CommandReplyWindow, clock, cancellationToken).ConfigureAwait(false);
            return Answer(quick);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // Slow, or Slack hung up: the reply goes to response_url when it is ready.
        }

        var responseUrl = field("response_url");
        _ = background.Run("command reply via response_url", async stopping =>
        {
            var late = await reply.WaitAsync(stopping).ConfigureAwait(false);
            if (!SlackResponseUrl.IsAllowed(responseUrl, client.ApiBaseUri))
            {
                LogReplyDropped(logger, userId);
                return;
            }

            await client.PostToResponseUrlAsync(responseUrl!, Ephemeral(SlackMessageRenderer.Reply(late)), stopping).ConfigureAwait(false);
        });
        return new SlackAnswer(Ephemeral(new SlackMessage(WorkingOnIt, [SlackBlockKit.Context(":hourglass_flowing_sand: " + WorkingOnIt)])));
    }

    /// <summary>An interaction payload (the <c>block_actions</c> JSON text). The decision is recorded even if Slack hangs up.</summary>
    public async Task<SlackAnswer> HandleInteractionAsync(string? payload)
    {
        switch (SlackInteraction.Parse(payload, out var click))
        {
            case SlackInteractionKind.Malformed: return SlackAnswer.Malformed("The payload field must be a block_actions JSON object.");
            case SlackInteractionKind.Ignored: return SlackAnswer.Empty;
        }

        if (!workspaces.Allows(name => name == "payload" ? payload : null))
        {
            // A click from a workspace not served: the refusal on its own response_url, never through the Web API.
            _ = background.Run("workspace refusal", stopping => RefuseWorkspaceAsync(click!, stopping));
            return SlackAnswer.Empty;
        }

        var actor = new ChatUser(ChatPlatforms.Slack, click!.UserId, click.UserName);
        DecisionResult result;
        try
        {
            // A recorded decision must not be lost because Slack hung up; the decider is idempotent per click.
            result = await decider.DecideAsync(click.ApprovalId, actor, click.Approve, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A click is always acknowledged; the user gets a private error instead of a 500.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogDecisionFailed(logger, exception, click.ApprovalId);
            result = new DecisionResult(DecisionOutcome.NotFound, "Your decision could not be recorded. Please try again.");
        }

        LogDecision(logger, click.ApprovalId, click.UserId, click.Approve, result.Outcome);
        if (result.Outcome != DecisionOutcome.Recorded)
        {
            _ = background.Run("private answer to a click", stopping => AnswerPrivatelyAsync(click, result.Message, stopping));
        }

        return SlackAnswer.Empty;
    }

    /// <summary>
    /// The acknowledgement for a reply. The command handler hands out the same <see cref="CommandReply"/> instance for
    /// <c>status</c> while the listing it shows is unchanged (docs/architecture.md, "The status fast path"), so the
    /// last one is kept rendered and serialized: a repeated <c>status</c> renders nothing.
    /// </summary>
    private SlackAnswer Answer(CommandReply reply)
    {
        if (Volatile.Read(ref _lastRendered) is { } last && ReferenceEquals(last.Reply, reply)) return last.Answer;
        var answer = SlackAnswer.Shared(Ephemeral(SlackMessageRenderer.Reply(reply)));
        Volatile.Write(ref _lastRendered, new RenderedReply(reply, answer));
        return answer;
    }

    private RenderedReply? _lastRendered;

    private sealed record RenderedReply(CommandReply Reply, SlackAnswer Answer);

    /// <summary>Read-only commands that only read the state store: <c>status</c>, <c>status &lt;id&gt;</c>, <c>help</c> (or nothing).</summary>
    internal static bool StartsInline(string text)
    {
        var span = text.AsSpan().TrimStart();
        var end = span.IndexOfAny(' ', '\t', '\n');
        var verb = end < 0 ? span : span[..end];
        return verb.IsEmpty || verb.Equals("status", StringComparison.OrdinalIgnoreCase) || verb.Equals("help", StringComparison.OrdinalIgnoreCase);
    }

    private async Task<CommandReply> RunCommandAsync(ChatRequest chatRequest, CancellationToken stopping)
    {
        try
        {
            return await commands.HandleAsync(chatRequest, stopping).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Slack must always get an answer; the failure is logged and the user told.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogCommandFailed(logger, exception, chatRequest.User.Id);
            return CommandReply.Error("Something went wrong while running the command. The error has been logged.");
        }
    }

    private Task AnswerPrivatelyAsync(SlackApprovalClick click, string message, CancellationToken cancellationToken)
    {
        var text = new SlackMessage(message, [SlackBlockKit.Section(SlackBlockKit.Escape(message))]);
        if (click.ChannelId is { } channel)
        {
            return client.PostEphemeralAsync(channel, click.UserId, text, click.ThreadTs, cancellationToken);
        }

        var payload = Ephemeral(text);
        payload["replace_original"] = false;
        return client.PostToResponseUrlAsync(click.ResponseUrl ?? string.Empty, payload, cancellationToken);
    }

    private static JsonObject Ephemeral(SlackMessage message)
    {
        var json = message.ToJson();
        json["response_type"] = "ephemeral";
        return json;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack command from {UserId} in {ChannelId}")]
    private static partial void LogCommand(ILogger logger, string userId, string channelId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Slack command from {UserId} failed")]
    private static partial void LogCommandFailed(ILogger logger, Exception exception, string userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Late reply to {UserId} dropped: the response_url is missing or not a Slack URL")]
    private static partial void LogReplyDropped(ILogger logger, string userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack click on {ApprovalId} by {UserId} (approve: {Approve}): {Outcome}")]
    private static partial void LogDecision(ILogger logger, string approvalId, string userId, bool approve, DecisionOutcome outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording the decision on {ApprovalId} failed")]
    private static partial void LogDecisionFailed(ILogger logger, Exception exception, string approvalId);
}
