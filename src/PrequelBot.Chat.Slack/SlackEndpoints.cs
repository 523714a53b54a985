using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
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
        // Plain request delegates: no parameter binding, result wrapping or request scope on the hottest path
        // (bench/README.md, "Against the limit"); the services are the application's singletons.
        var services = new Lazy<SlackServices>(() => new SlackServices(endpoints.ServiceProvider));
        group.MapPost("/commands", context => HandleCommandAsync(context, services.Value));
        group.MapPost("/interactions", context => HandleInteractionAsync(context, services.Value));
        return endpoints;
    }

    /// <summary>The singletons both endpoints use, resolved once from the application's services.</summary>
    internal sealed class SlackServices(IServiceProvider services)
    {
        public SlackRequestVerifier Verifier { get; } = services.GetRequiredService<SlackRequestVerifier>();
        public SlackInboundHandler Handler { get; } = services.GetRequiredService<SlackInboundHandler>();
        public ILogger Logger { get; } = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SlackEndpoints).FullName!);
    }

    internal static async Task HandleCommandAsync(HttpContext context, SlackServices services)
    {
        var inbound = await SlackInboundRequest.ReadAsync(context.Request, services.Verifier, services.Logger, context.RequestAborted).ConfigureAwait(false);
        if (await RefusedAsync(context, inbound, "Expected an application/x-www-form-urlencoded slash command.").ConfigureAwait(false)) return;

        var answer = await services.Handler.HandleCommandAsync(inbound.Field, context.RequestAborted).ConfigureAwait(false);
        if (answer.IsMalformed)
        {
            await BadRequestAsync(context, answer.Problem!).ConfigureAwait(false);
            return;
        }

        var json = answer.Utf8Json ?? JsonSerializer.SerializeToUtf8Bytes(answer.Payload ?? []);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = JsonContentType;
        context.Response.ContentLength = json.Length;
        await context.Response.Body.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }

    internal static async Task HandleInteractionAsync(HttpContext context, SlackServices services)
    {
        var inbound = await SlackInboundRequest.ReadAsync(context.Request, services.Verifier, services.Logger, context.RequestAborted).ConfigureAwait(false);
        if (await RefusedAsync(context, inbound, "Expected an application/x-www-form-urlencoded interaction.").ConfigureAwait(false)) return;

        var answer = await services.Handler.HandleInteractionAsync(inbound.Field("payload")).ConfigureAwait(false);
        if (answer.IsMalformed)
        {
            await BadRequestAsync(context, answer.Problem!).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
    }

    private const string JsonContentType = "application/json; charset=utf-8";

    /// <summary>413, 401 or 400 for a request that did not verify or parse; false when it did.</summary>
    private static async Task<bool> RefusedAsync(HttpContext context, SlackInboundRequest inbound, string malformed)
    {
        switch (inbound.Status)
        {
            case SlackInboundStatus.TooLarge:
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                return true;
            case SlackInboundStatus.Unauthorized:
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return true;
            case SlackInboundStatus.Malformed:
                await BadRequestAsync(context, malformed).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    /// <summary>400 with the one-line problem as a JSON string, as minimal APIs' <c>BadRequest&lt;string&gt;</c> writes it.</summary>
    private static Task BadRequestAsync(HttpContext context, string problem)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = JsonContentType;
        return context.Response.WriteAsync(JsonSerializer.Serialize(problem), context.RequestAborted);
    }
}
