using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using PrequelBot.Aws.Tests.Steps;
using PrequelBot.Testing;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Host.Tests;

/// <summary>
/// The dashboard's access rule and the key ring at rest, through the real host (docs/security.md, "Dashboard" and
/// "Key ring and state at rest").
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class OperatorAccessHostTests : IDisposable
{
    private const string Username = "ops";
    private const string Password = "correct horse battery staple";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "prequelbot-operator-" + Guid.NewGuid().ToString("N"));

    public OperatorAccessHostTests() => Directory.CreateDirectory(_directory);

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

    private static async Task<HttpContext> GetAsync(BotHost host, string path, IPAddress? remote, params (string Name, string Value)[] headers) =>
        await host.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Get;
            c.Request.Path = path;
            c.Connection.RemoteIpAddress = remote;
            foreach (var (name, value) in headers) c.Request.Headers[name] = value;
        });

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    [Fact]
    public async Task With_credentials_set_the_dashboard_is_401_without_them_and_200_with_them_from_any_address()
    {
        await using var host = Start(new() { ["Dashboard:Username"] = Username, ["Dashboard:Password"] = Password });
        using var client = host.CreateClient();

        using var anonymous = await client.GetAsync(new Uri("/hangfire", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", Assert.Single(anonymous.Headers.WwwAuthenticate).Scheme);

        using var wrong = new HttpRequestMessage(HttpMethod.Get, new Uri("/hangfire", UriKind.Relative));
        wrong.Headers.Authorization = AuthenticationHeaderValue.Parse(Basic(Username, Password + "x"));
        using (var response = await client.SendAsync(wrong)) Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        var remote = await GetAsync(host, "/hangfire", IPAddress.Parse("203.0.113.7"), ("Authorization", Basic(Username, Password)), ("X-Forwarded-For", "203.0.113.7"));
        Assert.Equal(StatusCodes.Status200OK, remote.Response.StatusCode);
    }

    [Fact]
    public async Task Basic_users_get_a_read_only_dashboard_unless_ReadOnly_is_false()
    {
        // Hangfire answers a command on a read-only dashboard 401 without a challenge (the credentials were accepted).
        static async Task<(int Status, bool Challenged)> TriggerAsync(BotHost host)
        {
            var context = await host.Server.SendAsync(c =>
        {
            c.Request.Method = HttpMethods.Post;
            c.Request.Path = "/hangfire/recurring/trigger";
            c.Request.Headers.Authorization = Basic(Username, Password);
            c.Request.ContentType = "application/x-www-form-urlencoded";
            c.Request.Body = new MemoryStream(Encoding.ASCII.GetBytes("jobs[]=none"));
            });
            return (context.Response.StatusCode, context.Response.Headers.WWWAuthenticate.Count > 0);
        }

        await using (var readOnly = Start(new() { ["Dashboard:Username"] = Username, ["Dashboard:Password"] = Password }))
            Assert.Equal((StatusCodes.Status401Unauthorized, false), await TriggerAsync(readOnly));
        await using (var readWrite = Start(new() { ["Dashboard:Username"] = Username, ["Dashboard:Password"] = Password, ["Dashboard:ReadOnly"] = "false" }))
        {
            var (status, challenged) = await TriggerAsync(readWrite);
            Assert.False(challenged);
            Assert.True(status is >= 200 and < 300, $"a read-write dashboard runs the command (got {status})");
        }
    }

    [Fact]
    public async Task Without_credentials_only_direct_loopback_requests_are_served_and_a_proxy_header_is_refused()
    {
        await using var host = Start();

        Assert.Equal(StatusCodes.Status200OK, (await GetAsync(host, "/hangfire", IPAddress.Loopback)).Response.StatusCode);
        Assert.Equal(StatusCodes.Status200OK, (await GetAsync(host, "/hangfire", IPAddress.IPv6Loopback)).Response.StatusCode);
        Assert.Equal(StatusCodes.Status403Forbidden, (await GetAsync(host, "/hangfire", IPAddress.Loopback, ("X-Forwarded-For", "198.51.100.4"))).Response.StatusCode);
        Assert.Equal(StatusCodes.Status403Forbidden, (await GetAsync(host, "/hangfire", IPAddress.Loopback, ("Forwarded", "for=198.51.100.4"))).Response.StatusCode);
        Assert.Equal(StatusCodes.Status403Forbidden, (await GetAsync(host, "/hangfire/jobs/enqueued", IPAddress.Loopback, ("X-Real-IP", "198.51.100.4"))).Response.StatusCode);
        Assert.Equal(StatusCodes.Status403Forbidden, (await GetAsync(host, "/hangfire", IPAddress.Parse("198.51.100.4"))).Response.StatusCode);
    }

    [Fact]
    public async Task A_key_ring_encrypted_with_a_moto_KMS_key_holds_no_plain_master_key_and_a_restarted_node_decrypts_the_secret()
    {
        using var moto = new MotoFixture();
        using var kms = new AmazonKeyManagementServiceClient(moto.Endpoint.Configure(new AmazonKeyManagementServiceConfig()));
        var key = await kms.CreateKeyAsync(new CreateKeyRequest { Description = "prequelbot key ring test" });
        var settings = new Dictionary<string, string?>
        {
            ["DataProtection:KmsKeyId"] = key.KeyMetadata.Arn,
            ["Aws:ServiceUrl"] = Environment.GetEnvironmentVariable("Aws__ServiceUrl"),
            ["Aws:Region"] = moto.Endpoint.Region,
        };

        await AssertRingProtectedAndReadableAfterRestartAsync(settings, "kmsEncryptedKey");
    }

    [Fact]
    public async Task A_key_ring_encrypted_with_a_certificate_holds_no_plain_master_key_and_a_restarted_node_decrypts_the_secret()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=PrequelBot key ring test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var path = Path.Combine(_directory, "keyring.pfx");
        await File.WriteAllBytesAsync(path, certificate.Export(X509ContentType.Pfx, "pfx-pass"));

        await AssertRingProtectedAndReadableAfterRestartAsync(new()
        {
            ["DataProtection:CertificatePath"] = path,
            ["DataProtection:CertificatePassword"] = "pfx-pass",
        }, "EncryptedData");
    }

    [Fact]
    public async Task The_key_ring_is_read_on_first_use_not_at_start_up()
    {
        await using var host = Start();
        var ring = host.Services.GetRequiredService<ISecretRecordStore>();
        // Data Protection's own warm-up service would have created the first key while the host started.
        Assert.Empty(ring.GetDataProtectionKeys());

        var store = host.Services.GetRequiredService<ISecretStore>();
        await store.PutAsync("ob-lazyring", "test-secret", "reader-password-Lz4!", CancellationToken.None);

        Assert.Single(ring.GetDataProtectionKeys());
        Assert.Equal("reader-password-Lz4!", await store.GetAsync("ob-lazyring", "test-secret", CancellationToken.None));
    }

    private async Task AssertRingProtectedAndReadableAfterRestartAsync(Dictionary<string, string?> settings, string encryptedMarker)
    {
        const string secret = "reader-password-Zq81!";
        string id;
        await using (var first = Start(settings))
        {
            var reply = await first.SayAsync("connect mydb");
            id = reply.StartedOnboardingId ?? throw new InvalidOperationException(reply.Text);
            await first.Services.GetRequiredService<ISecretStore>().PutAsync(id, "test-secret", secret, CancellationToken.None);

            var ring = first.Services.GetRequiredService<ISecretRecordStore>().GetDataProtectionKeys();
            Assert.NotEmpty(ring);
            Assert.All(ring, k => Assert.Contains(encryptedMarker, k, StringComparison.Ordinal));
            Assert.All(ring, k => Assert.DoesNotContain("<masterKey", k, StringComparison.Ordinal));
        }

        await using var restarted = Start(settings);
        Assert.Equal(secret, await restarted.Services.GetRequiredService<ISecretStore>().GetAsync(id, "test-secret", CancellationToken.None));
    }
}
