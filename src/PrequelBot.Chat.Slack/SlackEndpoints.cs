using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Chat.Slack;
using PrequelBot.Workflows.Chat;
using PrequelBot.Workflows.Domain;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// <c>POST /slack/commands</c> (slash command <c>/prequel</c>) and <c>POST /slack/interactions</c> (button clicks).
/// Every request is verified (v0 signature over the raw body, 5-minute window) before anything is parsed: a bad
/// signature is 401 with no side effect, a malformed body 400, a body over 64 KB 413. Valid requests are answered
/// 200 within Slack's 3 s; slow work finishes in the background and answers through <c>response_url</c> or the Web API.
/// </summary>
public static partial class SlackEndpoints
{
    /// <summary>How long a command may take before the user gets "Working on it…" and the reply via <c>response_url</c>.</summary>
    public static readonly TimeSpan CommandReplyWindow = TimeSpan.FromSeconds(2);

    public const string WorkingOnIt = "Working on it…";

    /// <summary>Maps <c>/slack/commands</c> and <c>/slack/interactions</c>. Needs <c>AddSlackChat()</c>, an <see cref="IChatCommandHandler"/> and an <see cref="IApprovalDecider"/>.</summary>
    public static IEndpointRouteBuilder MapSlackEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup("/slack").DisableAntiforgery();
        group.MapPost("/commands", HandleCommandAsync);
        group.MapPost("/interactions", HandleInteractionAsync);
        return endpoints;
    }

    internal static async Task<Results<Ok<JsonObject>, UnauthorizedHttpResult, BadRequest<string>, StatusCodeHttpResult>> HandleCommandAsync(
        HttpRequest request,
        [FromServices] SlackRequestVerifier verifier,
        [FromServices] IChatCommandHandler handler,
        [FromServices] SlackWebApiClient client,
        [FromServices] SlackBackgroundReplies background,
        [FromServices] TimeProvider clock,
        [FromServices] ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(SlackEndpoints).FullName!);
        var inbound = await SlackInboundRequest.ReadAsync(request, verifier, logger, cancellationToken).ConfigureAwait(false);
        switch (inbound.Status)
        {
            case SlackInboundStatus.TooLarge: return TypedResults.StatusCode(StatusCodes.Status413PayloadTooLarge);
            case SlackInboundStatus.Unauthorized: return TypedResults.Unauthorized();
            case SlackInboundStatus.Malformed: return TypedResults.BadRequest("Expected an application/x-www-form-urlencoded slash command.");
        }

        if (inbound.Field("ssl_check") == "1")
        {
            return TypedResults.Ok(new JsonObject());
        }

        var userId = inbound.Field("user_id");
        var channelId = inbound.Field("channel_id");
        if (userId is null || channelId is null)
        {
            return TypedResults.BadRequest("The slash command needs user_id and channel_id.");
        }

        var adapterData = new JsonObject
        {
            ["team_id"] = inbound.Field("team_id"),
            ["enterprise_id"] = inbound.Field("enterprise_id"),
        }.ToJsonString();
        var chatRequest = new ChatRequest(
            new ChatUser(ChatPlatforms.Slack, userId, inbound.Field("user_name")),
            new ConversationRef(ChatPlatforms.Slack, channelId, adapterData),
            inbound.Field("text")?.Trim() ?? string.Empty);
        LogCommand(logger, userId, channelId);

        // The command outlives this request when it is slow, so it runs on the application's token.
        var reply = Task.Run(() => RunCommandAsync(handler, chatRequest, logger, background.Stopping), CancellationToken.None);
        try
        {
            // No timer at all when the reply is already there (status, help, errors usually are).
            var quick = await reply.WaitAsync(CommandReplyWindow, clock, cancellationToken).ConfigureAwait(false);
            return TypedResults.Ok(Ephemeral(SlackMessageRenderer.Reply(quick)));
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // Slow, or Slack hung up: the reply goes to response_url when it is ready.
        }

        var responseUrl = inbound.Field("response_url");
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
        return TypedResults.Ok(Ephemeral(new SlackMessage(WorkingOnIt, [SlackBlockKit.Context(":hourglass_flowing_sand: " + WorkingOnIt)])));
    }

    internal static async Task<Results<Ok, UnauthorizedHttpResult, BadRequest<string>, StatusCodeHttpResult>> HandleInteractionAsync(
        HttpRequest request,
        [FromServices] SlackRequestVerifier verifier,
        [FromServices] IApprovalDecider decider,
        [FromServices] SlackWebApiClient client,
        [FromServices] SlackBackgroundReplies background,
        [FromServices] ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(SlackEndpoints).FullName!);
        var inbound = await SlackInboundRequest.ReadAsync(request, verifier, logger, cancellationToken).ConfigureAwait(false);
        switch (inbound.Status)
        {
            case SlackInboundStatus.TooLarge: return TypedResults.StatusCode(StatusCodes.Status413PayloadTooLarge);
            case SlackInboundStatus.Unauthorized: return TypedResults.Unauthorized();
            case SlackInboundStatus.Malformed: return TypedResults.BadRequest("Expected an application/x-www-form-urlencoded interaction.");
        }

        switch (SlackInteraction.Parse(inbound.Field("payload"), out var click))
        {
            case SlackInteractionKind.Malformed: return TypedResults.BadRequest("The payload field must be a block_actions JSON object.");
            case SlackInteractionKind.Ignored: return TypedResults.Ok();
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
            _ = background.Run("private answer to a click", stopping => AnswerPrivatelyAsync(client, click, result.Message, stopping));
        }

        return TypedResults.Ok();
    }

    private static async Task<CommandReply> RunCommandAsync(IChatCommandHandler handler, ChatRequest chatRequest, ILogger logger, CancellationToken stopping)
    {
        try
        {
            return await handler.HandleAsync(chatRequest, stopping).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Slack must always get an answer; the failure is logged and the user told.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogCommandFailed(logger, exception, chatRequest.User.Id);
            return CommandReply.Error("Something went wrong while running the command. The error has been logged.");
        }
    }

    private static Task AnswerPrivatelyAsync(SlackWebApiClient client, SlackApprovalClick click, string message, CancellationToken cancellationToken)
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
