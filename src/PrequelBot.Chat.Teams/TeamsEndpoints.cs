using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

public static class TeamsEndpoints
{
    /// <summary>Maps /api/messages.</summary>
    public static IEndpointRouteBuilder MapTeamsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints;
    }
}
