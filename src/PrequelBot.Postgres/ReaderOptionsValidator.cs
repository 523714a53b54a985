using Microsoft.Extensions.Options;
using PrequelBot.Commands;
using PrequelBot.Postgres.Users;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Postgres;

/// <summary>
/// Start-up check of the reader settings of each <c>Databases:&lt;alias&gt;</c> entry: every <c>TableCreators</c> entry is a
/// PostgreSQL identifier (the same rule as <c>--user</c> and <c>--schemas</c>), and <c>ReaderStatementTimeout</c>, when
/// set, is a positive whole number of milliseconds that <c>statement_timeout</c> can hold. Messages name the key.
/// </summary>
public sealed class ReaderOptionsValidator : IValidateOptions<DatabasesOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabasesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (alias, entry) in options.Entries)
        {
            for (var i = 0; i < entry.TableCreators.Count; i++)
            {
                var role = entry.TableCreators[i]?.Trim();
                var problem = role == "public" ? "is not a role" : Identifiers.PostgresIdentifierProblem(role);
                if (problem is not null)
                {
                    failures.Add($"Databases:{alias}:TableCreators:{i} {problem} (got '{entry.TableCreators[i]}').");
                }
            }
            if (entry.ReaderStatementTimeout is { } timeout
                && (timeout <= TimeSpan.Zero || timeout > ReaderHardening.MaxTimeout || timeout.Ticks % TimeSpan.TicksPerMillisecond != 0))
            {
                failures.Add($"Databases:{alias}:ReaderStatementTimeout must be a positive duration of whole milliseconds up to 24.20:31:23.647, e.g. 01:00:00 (got '{timeout}').");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
