namespace PrequelBot.Prequel;

/// <summary>
/// Prequel's source API (<c>{Prequel:BaseUrl}/sources</c>) with <c>X-API-KEY</c> and <c>X-Prequel-Api-Version</c>.
/// GETs are retried on 429/5xx with back-off (honouring Retry-After). Failures surface as
/// <see cref="Workflows.Ports.StepFailedException"/> carrying Prequel's message with the key and password redacted.
/// </summary>
public interface IPrequelClient
{
    /// <summary>Every source, following <c>next_url</c> on the configured host only (bounded page count, no loops).</summary>
    Task<IReadOnlyList<PrequelSource>> ListSourcesAsync(CancellationToken cancellationToken);

    /// <summary>The source named exactly <paramref name="name"/>, or null; fails when several share the name.</summary>
    Task<PrequelSource?> FindByNameAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Finds the source by name or creates it. Never creates a duplicate: after a failed or timed-out POST it lists
    /// again and reuses a source that the failed call may have committed before POSTing again.
    /// </summary>
    Task<(PrequelSource Source, bool Created)> EnsureSourceAsync(NewPrequelSource source, CancellationToken cancellationToken);

    /// <summary>
    /// <c>DELETE /sources/{id}</c> (inferred from Prequel's sibling endpoints, see <see cref="PrequelPaths"/>). Returns
    /// false when Prequel answers 404: the source is already gone. Idempotent.
    /// </summary>
    Task<bool> DeleteSourceAsync(string sourceId, CancellationToken cancellationToken);

    /// <summary>
    /// <c>PATCH /sources/{id}</c> with only the new password (inferred, see <see cref="PrequelPaths"/>). Idempotent: the
    /// same password twice leaves the same source. A 404 fails the step: the recorded source is gone.
    /// </summary>
    Task UpdatePasswordAsync(string sourceId, string password, CancellationToken cancellationToken);
}

/// <summary>
/// Every Prequel API path PrequelBot calls, in one place: <c>PATCH</c> and <c>DELETE /sources/{id}</c> are inferred from
/// Prequel's sibling endpoints, not confirmed by its docs (README, "Prequel API").
/// </summary>
public static class PrequelPaths
{
    public const string Sources = "sources";

    public static string Source(string sourceId) => $"sources/{Uri.EscapeDataString(sourceId)}";
}
