using System.Collections.Concurrent;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Testing;

/// <summary>An unencrypted <see cref="ISecretStore"/> for unit tests of steps; the product uses Data Protection.</summary>
public sealed class InMemorySecretStore : ISecretStore
{
    public ConcurrentDictionary<(string OnboardingId, string Name), string> Values { get; } = new();

    public Task PutAsync(string onboardingId, string name, string secret, CancellationToken cancellationToken)
    {
        Values[(onboardingId, name)] = secret;
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string onboardingId, string name, CancellationToken cancellationToken) =>
        Task.FromResult(Values.TryGetValue((onboardingId, name), out var v) ? v : null);

    public Task EraseAsync(string onboardingId, CancellationToken cancellationToken)
    {
        foreach (var key in Values.Keys.Where(k => k.OnboardingId == onboardingId)) Values.TryRemove(key, out _);
        return Task.CompletedTask;
    }
}
