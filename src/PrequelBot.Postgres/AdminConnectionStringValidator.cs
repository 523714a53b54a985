using Microsoft.Extensions.Options;
using Npgsql;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Postgres;

/// <summary>
/// Start-up check of <c>Databases:&lt;alias&gt;:AdminConnectionString</c>: a value that is present must parse as an
/// Npgsql connection string with a Host. The message names the key, never the value.
/// </summary>
public sealed class AdminConnectionStringValidator : IValidateOptions<DatabasesOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabasesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (alias, entry) in options.Entries)
        {
            if (string.IsNullOrWhiteSpace(entry.AdminConnectionString))
            {
                continue;
            }
            try
            {
                if (string.IsNullOrWhiteSpace(new NpgsqlConnectionStringBuilder(entry.AdminConnectionString).Host))
                {
                    failures.Add($"Databases:{alias}:AdminConnectionString must name a Host");
                }
            }
            catch (ArgumentException)
            {
                failures.Add($"Databases:{alias}:AdminConnectionString is not a valid Npgsql connection string");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
