using Microsoft.Extensions.Options;
using Npgsql;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres;

/// <summary>Finds <c>Databases:&lt;alias&gt;:AdminConnectionString</c> for an onboarding. Never exposes the string in messages.</summary>
public sealed class AdminConnectionSource(IOptions<DatabasesOptions> databases)
{
    /// <summary>The parsed admin connection string, or a <see cref="StepFailedException"/> naming the missing key.</summary>
    public NpgsqlConnectionStringBuilder Get(string alias)
    {
        if (!databases.Value.TryGet(alias, out _, out var options) || string.IsNullOrWhiteSpace(options.AdminConnectionString))
        {
            throw new StepFailedException($"Databases:{alias}:AdminConnectionString is not set: PrequelBot cannot create the read-only user.");
        }
        try
        {
            return new NpgsqlConnectionStringBuilder(options.AdminConnectionString);
        }
        catch (ArgumentException)
        {
            throw new StepFailedException($"Databases:{alias}:AdminConnectionString is not a valid Npgsql connection string.");
        }
    }
}
