using System.Diagnostics;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel.Tests;

public sealed class PrequelClientTests
{
    private static NewPrequelSource Orders(string name = "orders-db") =>
        new(name, "orders.abc.rds.amazonaws.com", 5433, "orders", "sales", "prequel_reader", "Pw0123456789abcdefghijklmnopqrstuv");

    [Fact]
    public async Task Version_2023_12_01_sends_the_nested_body()
    {
        await using var api = await FakePrequelApi.StartAsync("2023-12-01");
        await using var host = PrequelTestHost.Create(api.BaseUrl, "2023-12-01");

        var (source, created) = await host.Client.EnsureSourceAsync(Orders(), CancellationToken.None);

        Assert.True(created);
        Assert.Equal(api.Sources.Single().Id, source.Id);
        var body = api.PostedBodies.Single()["source"]!;
        Assert.Equal("postgres", body["vendor"]!.GetValue<string>());
        Assert.Equal("orders.abc.rds.amazonaws.com", body["postgres"]!["host"]!.GetValue<string>());
        Assert.Equal(5433, body["postgres"]!["port"]!.GetValue<int>());
        Assert.Equal("orders", body["postgres"]!["database"]!.GetValue<string>());
        Assert.Equal("sales", body["postgres"]!["schema"]!.GetValue<string>());
        Assert.Equal("password_auth", body["postgres"]!["auth_method"]!.GetValue<string>());
        Assert.Equal("prequel_reader", body["postgres"]!["password_auth"]!["username"]!.GetValue<string>());
        Assert.False(body["postgres"]!["disable_ssl"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Version_2022_01_01_sends_the_flat_body()
    {
        await using var api = await FakePrequelApi.StartAsync("2022-01-01");
        await using var host = PrequelTestHost.Create(api.BaseUrl, "2022-01-01");

        await host.Client.EnsureSourceAsync(Orders(), CancellationToken.None);

        var body = api.PostedBodies.Single()["source"]!.AsObject();
        Assert.Equal(["name", "vendor", "host", "port", "database", "username", "password"], body.Select(p => p.Key));
        Assert.Equal("Pw0123456789abcdefghijklmnopqrstuv", api.PostedPassword());
    }

    [Fact]
    public async Task Existing_source_on_page_two_is_reused_without_a_post()
    {
        await using var api = await FakePrequelApi.StartAsync(pageSize: 2);
        api.Seed("a"); api.Seed("b"); var wanted = api.Seed("orders-db"); api.Seed("c");
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var (source, created) = await host.Client.EnsureSourceAsync(Orders(), CancellationToken.None);

        Assert.False(created);
        Assert.Equal(wanted.Id, source.Id);
        Assert.Equal(0, api.Posts);
        Assert.Equal(2, api.Gets);
    }

    [Fact]
    public async Task Server_error_on_list_is_retried_then_succeeds()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.Seed("orders-db");
        api.Script.Enqueue(new ScriptedResponse("GET", 500, "temporary"));
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var found = await host.Client.FindByNameAsync("orders-db", CancellationToken.None);

        Assert.NotNull(found);
        Assert.Equal(2, api.Gets);
    }

    [Fact]
    public async Task Post_that_committed_then_failed_with_500_creates_no_duplicate()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.Script.Enqueue(new ScriptedResponse("POST", 500, "gateway lost the response", CommitFirst: true));
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var (source, created) = await host.Client.EnsureSourceAsync(Orders(), CancellationToken.None);

        Assert.False(created);
        Assert.Single(api.Sources);
        Assert.Equal(api.Sources[0].Id, source.Id);
        Assert.Equal(1, api.Posts);
    }

    [Fact]
    public async Task Post_rejected_with_500_is_posted_again_and_succeeds()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.Script.Enqueue(new ScriptedResponse("POST", 500, "temporary"));
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var (_, created) = await host.Client.EnsureSourceAsync(Orders(), CancellationToken.None);

        Assert.True(created);
        Assert.Single(api.Sources);
        Assert.Equal(2, api.Posts);
    }

    [Fact]
    public async Task Too_many_requests_waits_for_retry_after_then_succeeds()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.Script.Enqueue(new ScriptedResponse("POST", 429, "slow down", RetryAfterSeconds: 1));
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var clock = Stopwatch.StartNew();

        var (_, created) = await host.Client.EnsureSourceAsync(Orders(), CancellationToken.None);

        Assert.True(created);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"waited only {clock.Elapsed}");
        Assert.Equal(2, api.Posts);
    }

    [Fact]
    public async Task Too_many_requests_on_list_honours_retry_after()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.Script.Enqueue(new ScriptedResponse("GET", 429, "slow down", RetryAfterSeconds: 1));
        await using var host = PrequelTestHost.Create(api.BaseUrl);
        var clock = Stopwatch.StartNew();

        var sources = await host.Client.ListSourcesAsync(CancellationToken.None);

        Assert.Empty(sources);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(950), $"waited only {clock.Elapsed}");
    }

    [Fact]
    public async Task Client_error_message_from_prequel_reaches_the_user_with_the_password_redacted()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.Script.Enqueue(new ScriptedResponse("POST", 400, "host unreachable for password Pw0123456789abcdefghijklmnopqrstuv"));
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Client.EnsureSourceAsync(Orders(), CancellationToken.None));

        Assert.Contains("HTTP 400", error.Message, StringComparison.Ordinal);
        Assert.Contains("host unreachable for password [redacted]", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Pw0123456789", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, api.Posts);
    }

    [Fact]
    public async Task Wrong_api_key_fails_with_prequels_message_and_never_echoes_the_key()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.AcceptedKeys = ["sk_prod_the_right_one"];
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Client.ListSourcesAsync(CancellationToken.None));

        Assert.Contains("Invalid API key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(FakePrequelApi.ProductionKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Next_url_on_another_host_is_not_followed()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.NextUrlOverride = "http://127.0.0.2:9/sources?page=2";
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Client.ListSourcesAsync(CancellationToken.None));

        Assert.Contains("another host (127.0.0.2)", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, api.Gets);
    }

    [Fact]
    public async Task Next_url_loop_is_detected()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.NextUrlOverride = "/sources?page=1";
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Client.ListSourcesAsync(CancellationToken.None));

        Assert.Contains("loop", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, api.Gets);
    }

    [Fact]
    public async Task Two_sources_with_the_same_name_are_reported_as_ambiguous()
    {
        await using var api = await FakePrequelApi.StartAsync();
        api.Seed("orders-db"); api.Seed("orders-db");
        await using var host = PrequelTestHost.Create(api.BaseUrl);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => host.Client.FindByNameAsync("orders-db", CancellationToken.None));

        Assert.Contains("2 sources named orders-db", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sk_prod_abc", "production")]
    [InlineData("sk_staging_abc", "staging")]
    [InlineData("sk_live_abc", PrequelEnvironment.Unknown)]
    public void Environment_follows_the_key_prefix(string key, string environment)
    {
        Assert.Equal(environment, PrequelEnvironment.FromApiKey(key));
    }
}
