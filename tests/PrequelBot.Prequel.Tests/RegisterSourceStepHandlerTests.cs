using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using PrequelBot.Postgres.Tests;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel.Tests;

public sealed class RegisterSourceStepHandlerTests
{
    private const string Password = "Stored0123456789abcdefghijklmnopqr";

    [Fact]
    public async Task Plan_names_the_source_endpoint_database_user_and_environment()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var plan = await host.Handler.PlanAsync(PrequelTestHost.Context("ob-plan1"), CancellationToken.None);

        Assert.Equal(["Create Prequel source mydb (postgres, mydb.abc.eu-west-1.rds.amazonaws.com:5432, database appdb, user prequel_reader) in production"], plan.Changes);
        Assert.Equal("Prequel environment: production", plan.Note);
        Assert.Equal(0, api.Posts);
    }

    [Fact]
    public async Task Plan_with_a_staging_key_says_staging()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl, apiKey: FakePrequelApi.StagingKey);

        var plan = await host.Handler.PlanAsync(PrequelTestHost.Context("ob-plan2"), CancellationToken.None);

        Assert.EndsWith("in staging", plan.Changes.Single(), StringComparison.Ordinal);
        Assert.Equal("Prequel environment: staging", plan.Note);
    }

    [Fact]
    public async Task Plan_is_already_in_place_when_the_source_exists()
    {
        await using var api = await FakePrequelApi.StartAsync();
        var existing = api.Seed("mydb");
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var context = PrequelTestHost.Context("ob-plan3");

        var plan = await host.Handler.PlanAsync(context, CancellationToken.None);

        Assert.False(plan.HasChanges);
        Assert.Contains(existing.Id, plan.Detail, StringComparison.Ordinal);
        Assert.Equal(existing.Id, context.Facts.PrequelSourceId);
    }

    [Fact]
    public async Task An_existing_source_is_refused_when_this_onboarding_rotated_the_password()
    {
        await using var api = await FakePrequelApi.StartAsync();
        var existing = api.Seed("mydb");
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var context = PrequelTestHost.Context("ob-plan4");
        context.Facts.Values[FactKeys.UserPasswordSet] = "prequel_reader";

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Handler.PlanAsync(context, CancellationToken.None));

        Assert.Contains(existing.Id, error.Message, StringComparison.Ordinal);
        Assert.Contains("retry ob-plan4", error.Message, StringComparison.Ordinal);
        Assert.Null(context.Facts.PrequelSourceId);
        Assert.Equal(0, api.Posts);
    }

    [Fact]
    public async Task Apply_records_the_source_id_and_leaves_erasing_the_password_to_the_engine()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        await host.Secrets.PutAsync("ob-apply1", SecretNames.UserPassword, Password, CancellationToken.None);
        var context = PrequelTestHost.Context("ob-apply1");

        var result = await host.Handler.ApplyAsync(context, CancellationToken.None);

        Assert.Equal(StepOutcome.Done, result.Outcome);
        Assert.Equal(api.Sources.Single().Id, context.Facts.PrequelSourceId);
        Assert.Contains(context.Facts.PrequelSourceId!, result.Message, StringComparison.Ordinal);
        // Erased once, when the onboarding leaves (the host's RealAdaptersTests check that), not by the step.
        Assert.Equal(Password, await host.Secrets.GetAsync("ob-apply1", SecretNames.UserPassword, CancellationToken.None));
        Assert.Equal(Password, api.PostedPassword());
        Assert.Equal("sales", api.PostedBodies.Single()["source"]!["postgres"]!["schema"]!.GetValue<string>());
    }

    [Fact]
    public async Task Apply_twice_creates_one_source()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        await host.Secrets.PutAsync("ob-apply2", SecretNames.UserPassword, Password, CancellationToken.None);

        var first = await host.Handler.ApplyAsync(PrequelTestHost.Context("ob-apply2"), CancellationToken.None);
        var second = await host.Handler.ApplyAsync(PrequelTestHost.Context("ob-apply2"), CancellationToken.None);

        Assert.Equal(StepOutcome.Done, second.Outcome);
        Assert.Single(api.Sources);
        Assert.Equal(1, api.Posts);
        Assert.Contains("found", second.Message, StringComparison.Ordinal);
        Assert.Contains("created", first.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apply_without_a_stored_password_fails_clearly_and_posts_nothing()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Handler.ApplyAsync(PrequelTestHost.Context("ob-nopw"), CancellationToken.None));

        Assert.Contains("no longer stored", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, api.Posts);
    }

    [Fact]
    public async Task Apply_without_a_known_endpoint_fails_and_posts_nothing()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        await host.Secrets.PutAsync("ob-noep", SecretNames.UserPassword, Password, CancellationToken.None);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Handler.ApplyAsync(PrequelTestHost.Context("ob-noep", endpoint: null), CancellationToken.None));

        Assert.Contains("endpoint of mydb is not known", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, api.Posts);
        Assert.Equal(Password, await host.Secrets.GetAsync("ob-noep", SecretNames.UserPassword, CancellationToken.None));
    }

    [Fact]
    public async Task Database_falls_back_to_the_instance_db_name_then_postgres()
    {
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl, adminConnectionString: "Host=writer.internal;Username=admin");
        var context = PrequelTestHost.Context("ob-db");

        var withoutName = await host.Handler.PlanAsync(context, CancellationToken.None);
        context.Facts.Source = new DatabaseFacts { InstanceIdentifier = "mydb", Engine = "postgres", DatabaseName = "warehouse" };
        var withName = await host.Handler.PlanAsync(context, CancellationToken.None);

        Assert.Contains("database postgres,", withoutName.Changes.Single(), StringComparison.Ordinal);
        Assert.Contains("database warehouse,", withName.Changes.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_prequel_receives_really_logs_in_to_postgresql()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.ExecuteAsync("CREATE SCHEMA sales; CREATE TABLE sales.orders (id int);");
        var user = db.NewRoleName();
        await using var api = await FakePrequelApi.StartAsync();
        await using var host = PrequelTestHost.Create(api.BaseUrl, adminConnectionString: db.AdminConnectionString);
        var context = PrequelTestHost.Context("ob-e2e", user: user);
        var createUser = new Postgres.Users.CreateUserStepHandler(
            new Postgres.AdminConnectionSource(host.Services.GetRequiredService<IOptions<DatabasesOptions>>()),
            host.Secrets,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Postgres.Users.CreateUserStepHandler>.Instance);
        await createUser.ApplyAsync(context, CancellationToken.None);

        await host.Handler.ApplyAsync(context, CancellationToken.None);

        await using var connection = new NpgsqlConnection(db.ConnectionStringFor(user, api.PostedPassword()!));
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM sales.orders", connection);
        Assert.Equal(0L, await cmd.ExecuteScalarAsync());
        Assert.Equal(db.Name, api.PostedBodies.Single()["source"]!["postgres"]!["database"]!.GetValue<string>());
    }
}

public sealed class PrequelRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, bool twice = false)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddSingleton<ISecretStore>(new InMemorySecretStore());
        services.AddPrequelSource();
        if (twice)
        {
            services.AddPrequelSource();
        }
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("Prequel:BaseUrl", "not a url", "Prequel:BaseUrl must be an absolute http(s) URL")]
    [InlineData("Prequel:BaseUrl", "ftp://api.prequel.co", "Prequel:BaseUrl must be an absolute http(s) URL")]
    [InlineData("Prequel:ApiVersion", "2024-01-01", "Prequel:ApiVersion must be one of 2023-12-01, 2022-01-01")]
    [InlineData("Prequel:StaticIps:0", "35.192.85.300", "Prequel:StaticIps:0 must be an IPv4 address")]
    [InlineData("Prequel:StaticIps:0", "2001:db8::1", "Prequel:StaticIps:0 must be an IPv4 address")]
    public void Invalid_setting_fails_validation_naming_the_key(string key, string value, string expected)
    {
        using var services = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<PrequelOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Calling_add_twice_registers_each_handler_once_and_binds_static_ips_once()
    {
        using var services = Build(new() { ["Prequel:StaticIps:0"] = "35.192.85.117" }, twice: true);

        Assert.Equal([StepNames.RegisterSource, StepNames.UnregisterSource, StepNames.UpdateSource], services.GetServices<IStepHandler>().Select(h => h.StepName).Order());
        Assert.Single(services.GetServices<IIntegrationStatus>());
        Assert.Equal(["35.192.85.117"], services.GetRequiredService<IOptions<PrequelOptions>>().Value.StaticIps);
    }

    [Fact]
    public void Status_without_a_key_is_not_configured_and_with_a_key_never_shows_it()
    {
        using var without = Build([]);
        using var with = Build(new() { ["Prequel:ApiKey"] = "sk_staging_secret_value", ["Prequel:BaseUrl"] = "https://eu-api.prequel.co" });

        var off = without.GetServices<IIntegrationStatus>().Single();
        var on = with.GetServices<IIntegrationStatus>().Single();

        Assert.False(off.IsConfigured);
        Assert.Contains("Prequel:ApiKey", off.Detail, StringComparison.Ordinal);
        Assert.True(on.IsConfigured);
        Assert.Equal("https://eu-api.prequel.co (staging, API version 2023-12-01)", on.Detail);
        Assert.DoesNotContain("secret_value", on.Detail, StringComparison.Ordinal);
    }
}
