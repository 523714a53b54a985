using PrequelBot.Commands;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// What the read-only user should be: its name, the schemas it may use and either every table of those
/// schemas or the listed tables. Constructing one validates every identifier, so no SQL runs for a bad name.
/// </summary>
public sealed record ReadOnlyUserSpec
{
    public required string UserName { get; init; }
    /// <summary><c>--schemas</c> in order, then any schema named only by <c>--tables</c>.</summary>
    public required IReadOnlyList<string> Schemas { get; init; }
    /// <summary>Empty = every table of <see cref="Schemas"/>.</summary>
    public required IReadOnlyList<TableName> Tables { get; init; }
    /// <summary><c>Databases:&lt;alias&gt;:TableCreators</c>: roles whose future tables must be readable (whole schemas only).</summary>
    public IReadOnlyList<string> TableCreators { get; init; } = [];
    /// <summary><c>Databases:&lt;alias&gt;:ReaderStatementTimeout</c>: the reader's statement_timeout, when set.</summary>
    public TimeSpan? StatementTimeout { get; init; }

    /// <summary>True when the reader gets whole schemas (no <c>--tables</c>): only then are default privileges set.</summary>
    public bool WholeSchemas => Tables.Count == 0;

    /// <summary>Validates the request's names (<see cref="Workflows.Ports.StepFailedException"/> on the first bad one).</summary>
    public static ReadOnlyUserSpec From(OnboardingRequest request, DatabaseOptions? database = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var user = PgIdentifier.Validate(request.UserName, "user");
        var schemas = new List<string>();
        foreach (var schema in request.Schemas)
        {
            PgIdentifier.Validate(schema, "schema");
            if (!schemas.Contains(schema, StringComparer.Ordinal))
            {
                schemas.Add(schema);
            }
        }
        foreach (var table in request.Tables)
        {
            PgIdentifier.Validate(table.Schema, "schema");
            PgIdentifier.Validate(table.Table, "table");
            if (!schemas.Contains(table.Schema, StringComparer.Ordinal))
            {
                schemas.Add(table.Schema);
            }
        }
        if (schemas.Count == 0)
        {
            schemas.Add(OnboardingOptions.DefaultSchema);
        }
        var creators = new List<string>();
        foreach (var creator in database?.TableCreators ?? [])
        {
            var name = PgIdentifier.Validate(creator?.Trim(), "TableCreators role");
            if (!creators.Contains(name, StringComparer.Ordinal))
            {
                creators.Add(name);
            }
        }
        return new ReadOnlyUserSpec
        {
            UserName = user,
            Schemas = schemas,
            Tables = [.. request.Tables.Distinct()],
            TableCreators = creators,
            StatementTimeout = database?.ReaderStatementTimeout,
        };
    }

    public string QuotedUser => PgIdentifier.Quote(UserName);

    public static string QuotedTable(TableName table) => $"{PgIdentifier.Quote(table.Schema)}.{PgIdentifier.Quote(table.Table)}";
}
