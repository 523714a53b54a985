using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PrequelBot.Commands;
using PrequelBot.Postgres.Users;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

/// <summary>Builds handlers and contexts for one onboarding of alias <c>mydb</c>.</summary>
public sealed class Onboard(
    string adminConnectionString, string user, IReadOnlyList<string>? schemas = null, IReadOnlyList<TableName>? tables = null,
    IReadOnlyList<string>? tableCreators = null, TimeSpan? statementTimeout = null)
{
    public const string Alias = "mydb";

    public InMemorySecretStore Secrets { get; } = new();
    public OnboardingFacts Facts { get; } = new();
    public string OnboardingId { get; } = "ob-" + Guid.NewGuid().ToString("N")[..8];
    public string User => user;

    public OnboardingRequest Request => new()
    {
        DatabaseAlias = Alias,
        InstanceIdentifier = Alias,
        SourceName = Alias,
        UserName = user,
        Schemas = schemas ?? ["public"],
        Tables = tables ?? [],
    };

    public AdminConnectionSource AdminSource
    {
        get
        {
            var options = new DatabasesOptions();
            options.Entries[Alias] = new DatabaseOptions
            {
                AdminConnectionString = adminConnectionString,
                TableCreators = [.. tableCreators ?? []],
                ReaderStatementTimeout = statementTimeout,
            };
            return new AdminConnectionSource(Options.Create(options));
        }
    }

    public CreateUserStepHandler CreateUser => new(AdminSource, Secrets, NullLogger<CreateUserStepHandler>.Instance);
    public VerifyAccessStepHandler VerifyAccess => new(AdminSource, Secrets, NullLogger<VerifyAccessStepHandler>.Instance);
    public RotatePasswordStepHandler RotatePassword => new(AdminSource, Secrets, NullLogger<RotatePasswordStepHandler>.Instance);
    public DropUserStepHandler DropUser => new(AdminSource, NullLogger<DropUserStepHandler>.Instance);

    public StepContext Context(string step) => new()
    {
        OnboardingId = OnboardingId,
        StepName = step,
        Request = Request,
        Facts = Facts,
    };

    /// <summary>A second <c>connect</c> of the same database: a new onboarding id, nothing stored, the same settings.</summary>
    public Onboard Again() => new(adminConnectionString, user, schemas, tables, tableCreators, statementTimeout);

    public Task<string?> StoredPasswordAsync() => Secrets.GetAsync(OnboardingId, SecretNames.UserPassword, CancellationToken.None);
}
