using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PrequelBot.Postgres;
using PrequelBot.Postgres.Users;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

// Extension methods live in this namespace so the host needs no extra using (STYLE habit 2).
namespace Microsoft.Extensions.DependencyInjection;

public static class PostgresUserServiceCollectionExtensions
{
    /// <summary>
    /// Registers the step handlers create-user and verify-access and the "PostgreSQL sources" integration status.
    /// Needs <see cref="ISecretStore"/>, logging and <c>IOptions&lt;DatabasesOptions&gt;</c> (bound by the host).
    /// Safe to call twice.
    /// </summary>
    public static IServiceCollection AddPostgresUserSteps(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        services.AddLogging();
        // DatabasesOptions is bound by the host; a present-but-invalid AdminConnectionString, TableCreators or
        // ReaderStatementTimeout fails start-up naming its key.
        services.AddOptions<DatabasesOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabasesOptions>, AdminConnectionStringValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DatabasesOptions>, ReaderOptionsValidator>());
        services.TryAddSingleton<AdminConnectionSource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, CreateUserStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectionCheck, PrequelBot.Postgres.Checks.PostgresConnectionCheck>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, VerifyAccessStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, DropUserStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStepHandler, RotatePasswordStepHandler>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IIntegrationStatus, PostgresSourcesStatus>());
        return services;
    }
}
