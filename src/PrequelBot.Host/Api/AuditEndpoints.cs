using PrequelBot.Commands;
using PrequelBot.Host.Access;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Engine;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Api;

/// <summary>The audit trail of one onboarding as <c>GET /api/onboardings/{id}/audit</c> returns it (docs/workflow.md, "Audit").</summary>
/// <param name="OnboardingId">The onboarding.</param>
/// <param name="Kind"><c>connect</c>, <c>disconnect</c> or <c>rotate</c>.</param>
/// <param name="Database">The database alias.</param>
/// <param name="State">The state word now.</param>
/// <param name="Events">Every event, oldest first: the request, each plan, approval, step start and outcome, UTC times.</param>
public sealed record AuditTrail(string OnboardingId, string Kind, string Database, string State, IReadOnlyList<AuditLine> Events);

/// <summary>
/// <c>GET /api/onboardings/{id}/audit</c>: the whole audit trail as JSON, behind the dashboard's rule
/// (<see cref="OperatorAccess"/>; docs/security.md, "Dashboard"). 400 for a malformed id, 404 for an unknown one.
/// </summary>
public static class AuditEndpoints
{
    public const string Path = "/api/onboardings/{id}/audit";

    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet(Path, GetAsync);
        return endpoints;
    }

    private static async Task GetAsync(HttpContext context, string id, OperatorAccess access, IOnboardingStore store)
    {
        if (!await access.AdmitAsync(context)) return;
        IResult result;
        if (Identifiers.OnboardingIdProblem(id) is { } problem)
        {
            result = TypedResults.Problem($"Malformed onboarding id: it {problem}.", statusCode: StatusCodes.Status400BadRequest);
        }
        else if (await store.LoadAsync(id, context.RequestAborted) is not { } aggregate)
        {
            result = TypedResults.Problem($"No onboarding {id}.", statusCode: StatusCodes.Status404NotFound);
        }
        else
        {
            var events = await store.GetAuditAsync(id, context.RequestAborted);
            var onboarding = aggregate.Onboarding;
            result = TypedResults.Json(new AuditTrail(id, onboarding.Request.Kind.ToString().ToLowerInvariant(), onboarding.Request.DatabaseAlias,
                aggregate.State.Word(), [.. events.Select(AuditLines.From)]));
        }
        await result.ExecuteAsync(context);
    }
}
