using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using PrequelBot.Aws;
using PrequelBot.Aws.Kms;
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
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionCheck, PrequelBot.Aws.Checks.AwsConnectionCheck>());
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

    /// <summary>
    /// When <c>DataProtection:KmsKeyId</c> is set, encrypts the Data Protection key ring with that AWS KMS key
    /// (<see cref="KmsXmlEncryptor"/>; docs/security.md, "Key ring and state at rest"). Needs <c>kms:Encrypt</c> and
    /// <c>kms:Decrypt</c> on the key. Without the setting it changes nothing. Safe to call twice.
    /// </summary>
    public static IServiceCollection AddKmsKeyRingEncryption(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<AwsOptions>().BindConfiguration(AwsOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AwsOptions>, AwsOptionsValidator>());
        services.TryAddSingleton<AwsEndpoint>();
        services.AddOptions<KmsKeyRingOptions>().BindConfiguration(KmsKeyRingOptions.Section);
        services.TryAddSingleton<KmsKeyRing>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<KeyManagementOptions>, KmsKeyRingSetup>());
        return services;
    }

    /// <summary>Puts <see cref="KmsXmlEncryptor"/> on the key manager when a KMS key is configured.</summary>
    private sealed class KmsKeyRingSetup(IOptions<KmsKeyRingOptions> options, IServiceProvider services) : IConfigureOptions<KeyManagementOptions>
    {
        public void Configure(KeyManagementOptions keys)
        {
            if (string.IsNullOrWhiteSpace(options.Value.KmsKeyId)) return;
            keys.XmlEncryptor = new KmsXmlEncryptor(services.GetRequiredService<KmsKeyRing>());
        }
    }
}
