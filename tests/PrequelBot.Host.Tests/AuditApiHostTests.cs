using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using PrequelBot.Testing;

namespace PrequelBot.Host.Tests;

/// <summary>
/// <c>GET /api/onboardings/{id}/audit</c> through the real host: the dashboard's access rule (401 without the configured
/// Basic credentials, 403 for a non-local request when none are configured), 400 for a malformed id, 404 for an unknown
/// one, and the trail as JSON (docs/workflow.md, "Audit").
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class AuditApiHostTests : IDisposable
{
    private const string Username = "ops";
    private const string Password = "correct horse battery staple";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-audit-" + Guid.NewGuid().ToString("N"));

    public AuditApiHostTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }

    private BotHost Start(Dictionary<string, string?>? extra = null)
    {
        var settings = BotHost.Sqlite(_directory);
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return new BotHost(settings, new FakeInfrastructure(), new RecordingChatPlatform(BotHost.TestPlatform));
    }

    private static async Task<(int Status, string Body)> GetAsync(BotHost host, string path, IPAddress? remote, string? authorization = null)
    {
        var context = await host.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Get;
            c.Request.Path = path;
            c.Connection.RemoteIpAddress = remote;
            if (authorization is not null) c.Request.Headers.Authorization = authorization;
        });
        using var reader = new StreamReader(context.Response.Body);
        return (context.Response.StatusCode, await reader.ReadToEndAsync());
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    [Fact]
    public async Task Without_credentials_a_local_request_gets_the_trail_as_json_and_a_remote_one_gets_403()
    {
        await using var host = Start();
        var id = (await host.SayAsync("connect mydb")).StartedOnboardingId!;

        var (status, body) = await GetAsync(host, $"/api/onboardings/{id}/audit", IPAddress.Loopback);
        Assert.Equal(StatusCodes.Status200OK, status);
        var trail = JsonNode.Parse(body)!;
        Assert.Equal(id, trail["onboardingId"]!.GetValue<string>());
        Assert.Equal("connect", trail["kind"]!.GetValue<string>());
        Assert.Equal("mydb", trail["database"]!.GetValue<string>());
        var first = trail["events"]!.AsArray()[0]!;
        Assert.Equal(BotHost.TestPlatform, first["platform"]!.GetValue<string>());
        Assert.Equal(BotHost.Requester.Id, first["userId"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", first["at"]!.GetValue<string>());
        Assert.Contains("connect mydb", body, StringComparison.Ordinal);

        Assert.Equal(StatusCodes.Status403Forbidden, (await GetAsync(host, $"/api/onboardings/{id}/audit", IPAddress.Parse("198.51.100.4"))).Status);
        Assert.Equal(StatusCodes.Status404NotFound, (await GetAsync(host, "/api/onboardings/ob-zzzz9999/audit", IPAddress.Loopback)).Status);
        Assert.Equal(StatusCodes.Status400BadRequest, (await GetAsync(host, "/api/onboardings/OB-Not_an-id/audit", IPAddress.Loopback)).Status);
    }

    [Fact]
    public async Task With_credentials_set_the_trail_needs_them_from_any_address()
    {
        await using var host = Start(new() { ["Dashboard:Username"] = Username, ["Dashboard:Password"] = Password });
        var id = (await host.SayAsync("connect mydb")).StartedOnboardingId!;
        var path = $"/api/onboardings/{id}/audit";

        Assert.Equal(StatusCodes.Status401Unauthorized, (await GetAsync(host, path, IPAddress.Loopback)).Status);
        Assert.Equal(StatusCodes.Status401Unauthorized, (await GetAsync(host, path, IPAddress.Loopback, Basic(Username, Password + "x"))).Status);
        var (status, body) = await GetAsync(host, path, IPAddress.Parse("203.0.113.7"), Basic(Username, Password));
        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.Contains("onboarding-requested", body, StringComparison.Ordinal);
        // An unknown id is 404 only to an operator: without credentials it is 401 like any other.
        Assert.Equal(StatusCodes.Status401Unauthorized, (await GetAsync(host, "/api/onboardings/ob-zzzz9999/audit", IPAddress.Loopback)).Status);
    }
}
