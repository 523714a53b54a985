using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Postgres.Tests;

public sealed class RegistrationTests
{
    private static ServiceProvider Build(Action<DatabasesOptions> configure, bool twice = false)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ISecretStore>(new InMemorySecretStore());
        services.Configure(configure);
        services.AddPostgresUserSteps();
        if (twice)
        {
            services.AddPostgresUserSteps();
        }
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Calling_add_twice_registers_each_handler_once()
    {
        using var services = Build(_ => { }, twice: true);

        var steps = services.GetServices<IStepHandler>().Select(h => h.StepName).Order().ToList();

        Assert.Equal([StepNames.CreateUser, StepNames.DropUser, StepNames.RotatePassword, StepNames.VerifyAccess], steps);
        Assert.Single(services.GetServices<IIntegrationStatus>());
    }

    [Fact]
    public void Status_lists_configured_aliases_and_never_the_connection_string()
    {
        using var services = Build(o =>
        {
            o.Entries["orders"] = new DatabaseOptions { AdminConnectionString = "Host=orders.internal;Password=very-secret" };
            o.Entries["billing"] = new DatabaseOptions { InstanceIdentifier = "billing-prod" };
        });

        var status = services.GetServices<IIntegrationStatus>().Single();

        Assert.True(status.IsConfigured);
        Assert.Equal("admin connection set for orders", status.Detail);
    }

    [Fact]
    public void Status_without_any_admin_connection_is_not_configured()
    {
        using var services = Build(_ => { });

        Assert.False(services.GetServices<IIntegrationStatus>().Single().IsConfigured);
    }

    [Fact]
    public void Malformed_admin_connection_string_fails_validation_naming_the_key_not_the_value()
    {
        using var services = Build(o => o.Entries["orders"] = new DatabaseOptions { AdminConnectionString = "Host=x;Password=very-secret;NoSuchKeyword=1" });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DatabasesOptions>>().Value);

        Assert.Equal("Databases:orders:AdminConnectionString is not a valid Npgsql connection string", error.Failures.Single());
        Assert.DoesNotContain("very-secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_creator_that_is_not_an_identifier_fails_validation_naming_the_key()
    {
        using var services = Build(o => o.Entries["orders"] = new DatabaseOptions { TableCreators = ["flyway", "Migrator; DROP"] });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DatabasesOptions>>().Value);

        Assert.StartsWith("Databases:orders:TableCreators:1 must be lower case", error.Failures.Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:01:00")]
    [InlineData("30.00:00:00")]
    public void A_reader_statement_timeout_that_is_not_positive_or_too_long_fails_validation(string value)
    {
        using var services = Build(o => o.Entries["orders"] = new DatabaseOptions { ReaderStatementTimeout = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<DatabasesOptions>>().Value);

        Assert.StartsWith("Databases:orders:ReaderStatementTimeout must be a positive duration", error.Failures.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_reader_settings_pass_validation()
    {
        using var services = Build(o => o.Entries["orders"] = new DatabaseOptions { TableCreators = ["flyway"], ReaderStatementTimeout = TimeSpan.FromHours(1) });

        Assert.Equal(["flyway"], services.GetRequiredService<IOptions<DatabasesOptions>>().Value.Entries["orders"].TableCreators);
    }
}
