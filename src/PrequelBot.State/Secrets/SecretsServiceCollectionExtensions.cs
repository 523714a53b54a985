using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PrequelBot.State.Secrets;
using PrequelBot.Workflows.Ports;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The one place the secret store and its Data Protection key ring are set up (docs/architecture.md, "Secrets"): the
/// ring lives in the state store so every node shares it. Encryption of the ring at rest plugs in here.
/// </summary>
public static class SecretsServiceCollectionExtensions
{
    /// <summary>Registers <see cref="ISecretStore"/> on Data Protection with the key ring in the state store. Safe to call twice.</summary>
    public static IServiceCollection AddPrequelSecrets(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(SecretsMarker))) return services;
        services.AddSingleton<SecretsMarker>();
        services.TryAddSingleton<ISecretRecordStore>(sp => sp.GetRequiredService<IStateStore>());
        services.AddDataProtection().SetApplicationName("PrequelBot");
        services.AddOptions<KeyManagementOptions>()
            .Configure<ISecretRecordStore>((options, store) => options.XmlRepository = new StateStoreXmlRepository(store));
        services.TryAddSingleton<ISecretStore, DataProtectionSecretStore>();
        return services;
    }

    private sealed class SecretsMarker;
}
