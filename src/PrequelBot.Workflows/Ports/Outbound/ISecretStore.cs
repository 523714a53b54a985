namespace PrequelBot.Workflows.Ports;

/// <summary>
/// Secrets of an onboarding (the generated password), encrypted at rest with ASP.NET Core Data Protection
/// whose key ring lives in the state store, so every node can read what another wrote.
/// </summary>
public interface ISecretStore
{
    /// <summary>Stores or replaces a secret. Idempotent.</summary>
    Task PutAsync(string onboardingId, string name, string secret, CancellationToken cancellationToken);

    /// <summary>The secret, or null if none was stored or it was erased.</summary>
    Task<string?> GetAsync(string onboardingId, string name, CancellationToken cancellationToken);

    /// <summary>Erases every secret of the onboarding. Idempotent.</summary>
    Task EraseAsync(string onboardingId, CancellationToken cancellationToken);
}

/// <summary>Names of secrets kept in <see cref="ISecretStore"/>.</summary>
public static class SecretNames
{
    /// <summary>The generated password of the read-only PostgreSQL user.</summary>
    public const string UserPassword = "user-password";
}
