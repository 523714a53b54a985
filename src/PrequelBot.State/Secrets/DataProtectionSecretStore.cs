using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.Repositories;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.State.Secrets;

/// <summary>
/// <see cref="ISecretStore"/> that encrypts with ASP.NET Core Data Protection before anything reaches the
/// state store. Purpose strings bind each ciphertext to its onboarding and name, so a value copied to
/// another row does not decrypt.
/// </summary>
public sealed class DataProtectionSecretStore(IDataProtectionProvider provider, ISecretRecordStore store) : ISecretStore
{
    private IDataProtector Protector(string onboardingId, string name) =>
        provider.CreateProtector("PrequelBot.Secrets.v1", onboardingId, name);

    public Task PutAsync(string onboardingId, string name, string secret, CancellationToken cancellationToken) =>
        store.PutSecretAsync(onboardingId, name, Protector(onboardingId, name).Protect(secret), cancellationToken);

    public async Task<string?> GetAsync(string onboardingId, string name, CancellationToken cancellationToken)
    {
        var value = await store.GetSecretAsync(onboardingId, name, cancellationToken).ConfigureAwait(false);
        return value is null ? null : Protector(onboardingId, name).Unprotect(value);
    }

    public Task EraseAsync(string onboardingId, CancellationToken cancellationToken) =>
        store.DeleteSecretsAsync(onboardingId, cancellationToken);
}

/// <summary>Keeps the Data Protection key ring in the state store, so every node shares it.</summary>
public sealed class StateStoreXmlRepository(ISecretRecordStore store) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements() => [.. store.GetDataProtectionKeys().Select(XElement.Parse)];

    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        store.StoreDataProtectionKey(friendlyName, element.ToString(SaveOptions.DisableFormatting));
    }
}
