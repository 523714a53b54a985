using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Teams.Tests;

public sealed class TeamsOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddTeamsChat();
        services.AddTeamsChat();
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("Teams:OpenIdMetadataUrl", "not a url", "Teams:OpenIdMetadataUrl must be an absolute http(s) URL")]
    [InlineData("Teams:OpenIdMetadataUrl", "ftp://login.botframework.com/x", "Teams:OpenIdMetadataUrl must be an absolute http(s) URL")]
    [InlineData("Teams:TokenEndpoint", "/relative/token", "Teams:TokenEndpoint must be an absolute http(s) URL")]
    [InlineData("Teams:TenantId", "contoso.com/../evil", "Teams:TenantId must be a GUID or a domain name")]
    [InlineData("Teams:AppPassword", "secret-without-app-id", "Teams:AppId must be set when Teams:AppPassword is set")]
    public void Present_but_invalid_value_fails_naming_the_key(string key, string value, string message)
    {
        using var provider = Build(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TeamsOptions>>().Value);

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_settings_mean_not_configured_with_botframework_defaults()
    {
        using var provider = Build([]);

        var options = provider.GetRequiredService<IOptions<TeamsOptions>>().Value;
        var status = provider.GetServices<IIntegrationStatus>().Single(s => s.Name == "Teams");

        Assert.False(status.IsConfigured);
        Assert.Contains("Teams:AppId", status.Detail, StringComparison.Ordinal);
        Assert.Equal("https://login.botframework.com/v1/.well-known/openidconfiguration", options.OpenIdMetadataUrl);
        Assert.Equal("https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token", options.EffectiveTokenEndpoint);
    }

    [Fact]
    public void Tenant_id_replaces_botframework_in_the_default_token_endpoint()
    {
        using var provider = Build(new() { ["Teams:TenantId"] = "72f988bf-86f1-41af-91ab-2d7cd011db47" });

        var options = provider.GetRequiredService<IOptions<TeamsOptions>>().Value;

        Assert.Equal("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token", options.EffectiveTokenEndpoint);
    }

    [Fact]
    public void Configured_status_names_the_app_but_never_the_password()
    {
        using var provider = Build(new() { ["Teams:AppId"] = "app-1", ["Teams:AppPassword"] = "hunter2-secret" });

        var status = provider.GetServices<IIntegrationStatus>().Single(s => s.Name == "Teams");

        Assert.True(status.IsConfigured);
        Assert.Contains("app-1", status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2-secret", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Calling_add_twice_registers_one_chat_platform()
    {
        using var provider = Build([]);

        Assert.Single(provider.GetServices<IChatPlatform>());
        Assert.Single(provider.GetServices<IIntegrationStatus>());
    }
}

public sealed class TeamsStartupTests
{
    [Fact]
    public async Task Host_with_an_invalid_teams_url_does_not_start()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Teams:TokenEndpoint"] = "login.example.com/token" });
        builder.Services.AddTeamsChat();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Teams:TokenEndpoint must be an absolute http(s) URL", error.Message, StringComparison.Ordinal);
    }
}
