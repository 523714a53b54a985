using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using PrequelBot.Chat.Slack;
using PrequelBot.Workflows.Chat;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// <c>POST /slack/commands</c> (slash command <c>/prequel</c>) and <c>POST /slack/interactions</c> (button clicks).
/// Every request is verified (v0 signature over the raw body, 5-minute window) before anything is parsed: a bad
/// signature is 401 with no side effect, a malformed body 400, a body over 64 KB 413. After parsing, the request takes
/// the same path as a Socket Mode envelope (<see cref="SlackInboundHandler"/>): valid requests are answered 200 within
/// Slack's 3 s; slow work finishes in the background and answers through <c>response_url</c> or the Web API.
/// </summary>
public static class SlackEndpoints
{
    /// <summary>How long a command may take before the user gets "Working on it…" and the reply via <c>response_url</c>.</summary>
    public static readonly TimeSpan CommandReplyWindow = SlackInboundHandler.CommandReplyWindow;

    public const string WorkingOnIt = SlackInboundHandler.WorkingOnIt;

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
        [FromServices] SlackInboundHandler handler,
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

        var answer = await handler.HandleCommandAsync(inbound.Field, cancellationToken).ConfigureAwait(false);
        return answer.IsMalformed ? TypedResults.BadRequest(answer.Problem) : TypedResults.Ok(answer.Payload ?? []);
    }

    internal static async Task<Results<Ok, UnauthorizedHttpResult, BadRequest<string>, StatusCodeHttpResult>> HandleInteractionAsync(
        HttpRequest request,
        [FromServices] SlackRequestVerifier verifier,
        [FromServices] SlackInboundHandler handler,
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

        var answer = await handler.HandleInteractionAsync(inbound.Field("payload")).ConfigureAwait(false);
        return answer.IsMalformed ? TypedResults.BadRequest(answer.Problem) : TypedResults.Ok();
    }
}
