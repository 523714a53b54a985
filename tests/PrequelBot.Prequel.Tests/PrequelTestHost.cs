using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Postgres.Tests;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel.Tests;

/// <summary>The real DI registration pointed at a <see cref="FakePrequelApi"/>, with short back-off.</summary>
public sealed class PrequelTestHost : IAsyncDisposable
{
    public const string Alias = "mydb";

    private PrequelTestHost(ServiceProvider services, InMemorySecretStore secrets)
    {
        Services = services;
        Secrets = secrets;
    }

    public ServiceProvider Services { get; }
    public InMemorySecretStore Secrets { get; }
    public IPrequelClient Client => Services.GetRequiredService<IPrequelClient>();
    public IStepHandler Handler => Services.GetServices<IStepHandler>().Single(h => h.StepName == StepNames.RegisterSource);
    public IStepHandler Update => Services.GetServices<IStepHandler>().Single(h => h.StepName == StepNames.UpdateSource);
    public IStepHandler Unregister => Services.GetServices<IStepHandler>().Single(h => h.StepName == StepNames.UnregisterSource);

    public static PrequelTestHost Create(Uri baseUrl, string apiVersion = "2023-12-01", string apiKey = FakePrequelApi.ProductionKey,
        string adminConnectionString = "Host=writer.internal;Port=5432;Username=admin;Password=admin-secret;Database=appdb")
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Prequel:BaseUrl"] = baseUrl.ToString().TrimEnd('/'),
            ["Prequel:ApiKey"] = apiKey,
            ["Prequel:ApiVersion"] = apiVersion,
        }).Build();
        var secrets = new InMemorySecretStore();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(config);
        services.AddSingleton<ISecretStore>(secrets);
        services.Configure<DatabasesOptions>(o => o.Entries[Alias] = new DatabaseOptions { AdminConnectionString = adminConnectionString });
        services.AddPrequelSource();
        services.Configure<PrequelRetryOptions>(o =>
        {
            o.BaseDelay = TimeSpan.FromMilliseconds(20);
            o.MaxDelay = TimeSpan.FromSeconds(2);
            o.AttemptTimeout = TimeSpan.FromSeconds(10);
        });
        return new PrequelTestHost(services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true }), secrets);
    }

    public static StepContext Context(string onboardingId, string user = "prequel_reader", string sourceName = "mydb", string? endpoint = "mydb.abc.eu-west-1.rds.amazonaws.com", int port = 5432) => new()
    {
        OnboardingId = onboardingId,
        StepName = StepNames.RegisterSource,
        Request = new OnboardingRequest
        {
            DatabaseAlias = Alias,
            InstanceIdentifier = Alias,
            SourceName = sourceName,
            UserName = user,
            Schemas = ["sales", "public"],
        },
        Facts = new OnboardingFacts
        {
            Target = new DatabaseFacts { InstanceIdentifier = Alias, Engine = "postgres", EndpointAddress = endpoint, Port = port },
        },
    };

    public ValueTask DisposeAsync() => Services.DisposeAsync();
}
