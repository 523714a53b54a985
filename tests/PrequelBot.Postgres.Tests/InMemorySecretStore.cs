using System.Collections.Concurrent;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

/// <summary>Test double of <see cref="ISecretStore"/>: plain dictionary, counts writes.</summary>
public sealed class InMemorySecretStore : ISecretStore
{
    private readonly ConcurrentDictionary<(string, string), string> _secrets = new();

    public int Puts { get; private set; }

    public Task PutAsync(string onboardingId, string name, string secret, CancellationToken cancellationToken)
    {
        Puts++;
        _secrets[(onboardingId, name)] = secret;
        return Task.CompletedTask;
    }

    public Task<string?> GetAsync(string onboardingId, string name, CancellationToken cancellationToken) =>
        Task.FromResult(_secrets.TryGetValue((onboardingId, name), out var s) ? s : null);

    public Task EraseAsync(string onboardingId, CancellationToken cancellationToken)
    {
        foreach (var key in _secrets.Keys.Where(k => k.Item1 == onboardingId))
        {
            _secrets.TryRemove(key, out _);
        }
        return Task.CompletedTask;
    }
}
