using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
        // The ring is read when the first secret is stored or read, not at start-up: Data Protection's warm-up service
        // would parse the XML ring and start OpenSSL in every idle process, and it only logs a failure, it does not
        // stop the start (docs/architecture.md, "Secrets").
        foreach (var warmUp in services.Where(IsDataProtectionWarmUp).ToList()) services.Remove(warmUp);
        services.AddOptions<KeyManagementOptions>()
            .Configure<ISecretRecordStore>((options, store) => options.XmlRepository = new StateStoreXmlRepository(store));

        // At rest (docs/security.md, "Key ring and state at rest"): a certificate here, or AWS KMS from the AWS adapter.
        services.AddOptions<KeyRingOptions>().BindConfiguration(KeyRingOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KeyRingOptions>, KeyRingOptionsValidator>());
        services.TryAddSingleton<KeyRingCertificate>();
        services.AddOptions<KeyManagementOptions>()
            .Configure<IOptions<KeyRingOptions>, KeyRingCertificate, ILoggerFactory>((options, ring, certificate, loggers) =>
            {
                if (ring.Value.UsesCertificate) options.XmlEncryptor = new CertificateKeyRingEncryptor(certificate, loggers);
            });
        services.TryAddSingleton<ISecretStore, DataProtectionSecretStore>();
        return services;
    }

    private static bool IsDataProtectionWarmUp(ServiceDescriptor service) =>
        service.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService)
        && service.ImplementationType?.Assembly == typeof(KeyManagementOptions).Assembly;

    private sealed class SecretsMarker;
}
