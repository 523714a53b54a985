using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Aws.Tests.Steps;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Aws.Tests;

public class AwsServiceCollectionExtensionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, int calls = 1)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddSingleton<IPrequelEgress>(new FixedPrequelEgress("35.192.85.117"));
        for (var i = 0; i < calls; i++)
        {
            services.AddAwsSteps();
        }
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Calling_twice_registers_each_step_handler_once()
    {
        using var provider = Build(new() { ["Aws:Region"] = "eu-west-1" }, calls: 2);

        var steps = provider.GetServices<IStepHandler>().Select(h => h.StepName).Order().ToList();

        Assert.Equal(new[]
        {
            StepNames.CreateReplica, StepNames.Discover, StepNames.NetworkAcl, StepNames.PublicAccess, StepNames.SecurityGroup, StepNames.WaitReplica,
            StepNames.CloseNetworkAcl, StepNames.CloseSecurityGroup, StepNames.RestorePublicAccess, StepNames.DeleteReplica,
        }.Order(), steps);
        Assert.Single(provider.GetServices<IIntegrationStatus>());
    }

    [Theory]
    [InlineData("Aws:ServiceUrl", "not a url", "Aws:ServiceUrl must be an absolute http(s) URL")]
    [InlineData("Aws:ServiceUrl", "ftp://127.0.0.1/", "Aws:ServiceUrl must be an absolute http(s) URL")]
    [InlineData("Aws:Region", "Ireland", "Aws:Region must be an AWS region name such as us-east-1")]
    public void A_present_but_invalid_setting_fails_validation_naming_the_key(string key, string value, string message)
    {
        using var provider = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<AwsOptions>>().Value);

        Assert.Contains(message, error.Failures);
    }

    [Fact]
    public void Status_names_region_and_endpoint_override_and_no_credentials()
    {
        using var provider = Build(new() { ["Aws:Region"] = "eu-west-1", ["Aws:ServiceUrl"] = "http://127.0.0.1:5055" });

        var status = provider.GetServices<IIntegrationStatus>().Single();

        Assert.Equal(("AWS", true, "region eu-west-1, endpoint override http://127.0.0.1:5055"), (status.Name, status.IsConfigured, status.Detail));
    }
}
