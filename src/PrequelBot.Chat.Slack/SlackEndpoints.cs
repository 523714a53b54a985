using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

public static class SlackEndpoints
{
    /// <summary>Maps /slack/commands.</summary>
    public static IEndpointRouteBuilder MapSlackEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints;
    }
}
