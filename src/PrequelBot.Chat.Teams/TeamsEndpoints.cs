using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Chat.Teams;

namespace Microsoft.AspNetCore.Builder;

public static class TeamsEndpoints
{
    /// <summary>Largest activity accepted; Teams messages are capped near 100 KB.</summary>
    private const int MaxBodyBytes = 512 * 1024;

    /// <summary>
    /// Maps <c>POST /api/messages</c> (spec teams.md §1, §4): token checked before anything is read (401), bad JSON → 400,
    /// activity/token mismatch → 401 (serviceurl) or 403 (endorsement), a channel other than msteams or a tenant not
    /// allowed → 403 (<see cref="TeamsAccessGate"/>), then 200 at once with the work queued.
    /// Rejections have no side effect.
    /// </summary>
    public static IEndpointRouteBuilder MapTeamsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/api/messages", HandleActivityAsync).DisableAntiforgery();
        return endpoints;
    }

    internal static async Task<IResult> HandleActivityAsync(HttpRequest request, BotFrameworkAuthenticator authenticator,
        TeamsAccessGate gate, TeamsActivityQueue queue, CancellationToken cancellationToken)
    {
        var (outcome, token) = await authenticator.ValidateTokenAsync(request.Headers.Authorization.ToString(), cancellationToken).ConfigureAwait(false);
        if (outcome == InboundAuthOutcome.KeysUnavailable) return TypedResults.StatusCode(StatusCodes.Status503ServiceUnavailable);
        if (outcome != InboundAuthOutcome.Accepted || token is null) return TypedResults.Unauthorized();

        var activity = await ReadActivityAsync(request, cancellationToken).ConfigureAwait(false);
        if (activity is null) return TypedResults.BadRequest();

        switch (authenticator.CheckActivity(token, activity))
        {
            case InboundAuthOutcome.Unauthorized: return TypedResults.Unauthorized();
            case InboundAuthOutcome.Forbidden: return TypedResults.StatusCode(StatusCodes.Status403Forbidden);
        }

        // A message with nowhere to answer is malformed (400) before anything is asked about where it comes from.
        var answerable = TeamsOptions.IsHttpUrl(activity.ServiceUrl) && !string.IsNullOrEmpty(activity.Conversation?.Id);
        if (activity.Type is ActivityTypes.Message or ActivityTypes.ConversationUpdate && !answerable) return TypedResults.BadRequest();

        // Another channel (webchat, Direct Line…) or another tenant: 403 and nothing else (docs/security.md, "Tenancy").
        if (!gate.Allows(activity)) return TypedResults.StatusCode(StatusCodes.Status403Forbidden);

        switch (activity.Type)
        {
            case ActivityTypes.Invoke when activity.Name == "adaptiveCard/action":
                // Action.Execute is not what PrequelBot sends; a processed invoke is always HTTP 200 with a body.
                return TypedResults.Json(new
                {
                    statusCode = 400,
                    type = "application/vnd.microsoft.error",
                    value = new { code = "NotSupported", message = "Use the card buttons." },
                });
            case ActivityTypes.Invoke:
                return TypedResults.StatusCode(StatusCodes.Status501NotImplemented);
            case ActivityTypes.Message or ActivityTypes.ConversationUpdate:
                return queue.TryEnqueue(activity) ? TypedResults.Ok() : TypedResults.StatusCode(StatusCodes.Status503ServiceUnavailable);
            default:
                return TypedResults.Ok();
        }
    }

    private static async Task<PrequelBot.Chat.Teams.Activity?> ReadActivityAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) return null;
            buffer.Write(chunk, 0, read);
        }
        try
        {
            var activity = JsonSerializer.Deserialize<PrequelBot.Chat.Teams.Activity>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), TeamsJson.Options);
            return activity is { Type.Length: > 0 } ? activity : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
