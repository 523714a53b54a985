using Microsoft.Extensions.Options;
using Npgsql;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres;

/// <summary>Finds <c>Databases:&lt;alias&gt;:AdminConnectionString</c> for an onboarding. Never exposes the string in messages.</summary>
public sealed class AdminConnectionSource(IOptions<DatabasesOptions> databases)
{
    /// <summary>The alias's settings (TableCreators, ReaderStatementTimeout); empty settings for an unknown alias.</summary>
    public DatabaseOptions Options(string alias) => databases.Value.TryGet(alias, out _, out var options) ? options : new DatabaseOptions();

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

    /// <summary>Opens the admin connection; a failure becomes a <see cref="StepFailedException"/> explaining it plainly.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder admin, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(admin.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync();
            var reason = ConnectionFailureClassifier.Classify(e, admin.Host ?? "?", admin.Port, admin.Database ?? "postgres", admin.Username ?? "?");
            throw new StepFailedException($"Cannot connect with the admin connection: {reason}", e);
        }
    }
}
