using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PrequelBot.Aws;
using PrequelBot.Aws.Planning;
using PrequelBot.Aws.Steps;
using PrequelBot.Workflows.Ports;

// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class AwsServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="AwsOptions"/> (section <c>Aws</c>, validated at start-up), the RDS and EC2 clients (singletons,
    /// created on first use; credentials from the AWS SDK default chain only), the "AWS" <see cref="IIntegrationStatus"/>,
    /// and the singleton step handlers discover, create-replica, wait-replica, public-access, security-group and network-acl.
    /// Safe to call twice. Needs <see cref="IPrequelEgress"/> (AddPrequelSource): the security-group and network-acl steps open the database to Prequel's static IPs.
    /// </summary>
    public static IServiceCollection AddAwsSteps(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<AwsOptions>().BindConfiguration(AwsOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AwsOptions>, AwsOptionsValidator>());
        services.TryAddSingleton<AwsEndpoint>();
        services.TryAddSingleton<AwsClients>();
        services.TryAddSingleton(_ => new RecheckBackoff());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIntegrationStatus, AwsIntegrationStatus>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, DiscoverStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, CreateReplicaStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, WaitReplicaStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, PublicAccessStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, SecurityGroupStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, NetworkAclStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, PrequelBot.Aws.Steps.Disconnect.CloseNetworkAclStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, PrequelBot.Aws.Steps.Disconnect.CloseSecurityGroupStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, PrequelBot.Aws.Steps.Disconnect.RestorePublicAccessStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, PrequelBot.Aws.Steps.Disconnect.DeleteReplicaStepHandler>());
        return services;
    }
}
