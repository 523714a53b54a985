using Microsoft.Extensions.Options;
using PrequelBot.Commands;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Workflows.Engine;

/// <summary>Turns a command's database and options into an <see cref="OnboardingRequest"/>, the same way for <c>connect</c> and <c>plan</c>.</summary>
public sealed class OnboardingRequests(IOptionsMonitor<DatabasesOptions> databases)
{
    /// <summary>
    /// The request for <paramref name="database"/>: a configured alias, or (when <paramref name="mustBeConfigured"/> is
    /// false) any RDS instance identifier. <paramref name="configured"/> says which. Null with <paramref name="error"/>
    /// when the alias is unknown or a default cannot be resolved.
    /// </summary>
    public OnboardingRequest? Build(string database, OnboardingOptions options, bool mustBeConfigured, out bool configured, out string? error)
    {
        ArgumentNullException.ThrowIfNull(options);
        var all = databases.CurrentValue;
        configured = all.TryGet(database, out var instance, out var settings) && !string.IsNullOrWhiteSpace(settings.AdminConnectionString);
        var known = all.Entries.ContainsKey(database);
        if (mustBeConfigured && !known)
        {
            var names = all.Entries.Keys.Order(StringComparer.Ordinal).ToList();
            error = names.Count == 0
                ? $"Unknown database {database}: no databases are configured (add Databases:{database}:AdminConnectionString)."
                : $"Unknown database {database}. Configured: {string.Join(", ", names)}.";
            return null;
        }
        var cluster = all.ClusterOf(database);
        string? replicaId = null;
        if (options.Replica)
        {
            replicaId = options.ReplicaId ?? (cluster is null ? $"{instance}-prequel-replica" : $"{cluster}-prequel-reader");
            if (replicaId.Length > 63)
            {
                error = $"The default replica id {replicaId} is longer than 63 characters; choose one with --replica-id.";
                return null;
            }
        }
        error = null;
        var alias = database.ToLowerInvariant();
        return new OnboardingRequest
        {
            Kind = OnboardingKind.Connect,
            DatabaseAlias = alias,
            InstanceIdentifier = cluster ?? instance,
            ClusterIdentifier = cluster,
            ReaderId = options.Reader,
            Replica = options.Replica,
            ReplicaId = replicaId,
            ReplicaClass = options.ReplicaClass,
            ReplicaSubnetGroup = options.ReplicaSubnetGroup,
            SecurityGroupId = options.SecurityGroupId,
            Schemas = options.Schemas,
            Tables = options.Tables,
            UserName = options.User,
            SourceName = options.SourceName ?? alias,
        };
    }
}
