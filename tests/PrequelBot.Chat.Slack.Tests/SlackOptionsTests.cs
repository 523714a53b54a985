using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Chat.Slack.Tests;

public class SlackOptionsTests
{
    private static ServiceProvider Services(params (string Key, string? Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddSlackChat();
        return services.BuildServiceProvider();
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://slack.com/api/")]
    [InlineData("/api/")]
    public void Present_but_invalid_api_base_url_fails_validation_naming_the_key(string value)
    {
        using var services = Services(("Slack:ApiBaseUrl", value));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<SlackOptions>>().Value);

        Assert.Contains("Slack:ApiBaseUrl must be an absolute http(s) URL", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("acme")]
    [InlineData("U012ABCDEF")]
    [InlineData("")]
    public void An_allowed_team_id_that_is_not_a_workspace_or_grid_id_fails_validation_naming_the_key(string value)
    {
        using var services = Services(("Slack:AllowedTeamIds:0", "T0TEAM0001"), ("Slack:AllowedTeamIds:1", value));

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<SlackOptions>>().Value);

        Assert.Contains("Slack:AllowedTeamIds:1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_workspace_gate_serves_listed_workspaces_and_grid_orgs_and_refuses_the_rest()
    {
        using var services = Services(("Slack:AllowedTeamIds:0", "T0TEAM0001"), ("Slack:AllowedTeamIds:1", "E0GRID0001"));
        var gate = services.GetRequiredService<SlackWorkspaceGate>();

        Assert.True(gate.Allows("T0TEAM0001", null));
        Assert.True(gate.Allows("T0OTHER999", "E0GRID0001"));
        Assert.False(gate.Allows("T0OTHER999", null));
        Assert.False(gate.Allows(null, null));
        Assert.True(gate.Allows(f => f == "payload" ? """{"type":"block_actions","team":null,"user":{"id":"U1","team_id":"T0TEAM0001"}}""" : null));
        Assert.False(gate.Allows(f => f == "payload" ? """{"type":"block_actions","team":{"id":"T0OTHER999"},"enterprise":{"id":"E0OTHER999"}}""" : null));
    }

    [Fact]
    public async Task Invalid_api_base_url_stops_host_start_up()
    {
        var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
        builder.Configuration["Slack:ApiBaseUrl"] = "slack.com/api";
        builder.Services.AddSlackChat();
        await using var app = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Slack:ApiBaseUrl", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://slack.com/api", "https://slack.com/api/chat.postMessage")]
    [InlineData("https://slack.com/api/", "https://slack.com/api/chat.postMessage")]
    [InlineData("http://127.0.0.1:5000/api", "http://127.0.0.1:5000/api/chat.postMessage")]
    public void Api_base_url_works_with_or_without_a_trailing_slash(string value, string expected)
    {
        var options = new SlackOptions { ApiBaseUrl = value };

        Assert.Equal(expected, new Uri(options.ApiBaseUri, "chat.postMessage").ToString());
    }

    [Fact]
    public void Missing_settings_mean_not_configured_and_name_the_missing_keys()
    {
        using var services = Services();

        var status = Assert.Single(services.GetServices<IIntegrationStatus>());

        Assert.False(status.IsConfigured);
        Assert.Equal("Slack", status.Name);
        Assert.Contains("Slack:SigningSecret", status.Detail, StringComparison.Ordinal);
        Assert.Contains("Slack:BotToken", status.Detail, StringComparison.Ordinal);
        Assert.Equal("https://slack.com/api/", services.GetRequiredService<IOptions<SlackOptions>>().Value.ApiBaseUri.ToString());
    }

    [Fact]
    public void Configured_status_shows_no_secret()
    {
        using var services = Services(("Slack:SigningSecret", "s3cret-signing"), ("Slack:BotToken", "xoxb-s3cret-token"));

        var status = services.GetServices<IIntegrationStatus>().Single();

        Assert.True(status.IsConfigured);
        Assert.DoesNotContain("s3cret", status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Calling_AddSlackChat_twice_registers_one_chat_platform_and_one_status()
    {
        var services = new ServiceCollection().AddSingleton<IConfiguration>(new ConfigurationBuilder().Build()).AddLogging();

        services.AddSlackChat();
        services.AddSlackChat();

        using var provider = services.BuildServiceProvider();
        Assert.Single(provider.GetServices<IChatPlatform>());
        Assert.Single(provider.GetServices<IIntegrationStatus>());
        Assert.Equal("slack", provider.GetServices<IChatPlatform>().Single().Platform);
    }
}
