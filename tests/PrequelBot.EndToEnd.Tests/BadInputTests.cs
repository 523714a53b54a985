using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using PrequelBot.Chat.Slack.Tests.Fakes;
using PrequelBot.Chat.Teams.Tests.Fakes;
using Xunit.Abstractions;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// Bad input on every route of the running host (<c>/slack/commands</c>, <c>/slack/interactions</c>,
/// <c>/api/messages</c>, <c>/healthz</c>, <c>/readyz</c>, <c>/hangfire</c>, unknown paths): random bytes, malformed
/// form and JSON, valid signatures and valid Teams tokens over malformed bodies (so the parsers run, not only the 401
/// path), 5 MB bodies, wrong content types, missing and duplicated headers, wrong methods, garbage on the socket. The
/// random parts come from one seed, printed, so a failure reproduces (<c>PREQUELBOT_FUZZ_SEED</c> sets it).
/// Never a 5xx; the status the contract names where it names one; the process stays up; and nothing happened: no
/// card or prompt was posted, and a signed <c>status</c> afterwards finds no onboarding.
/// </summary>
[Collection(EndToEndGroup.Name)]
public sealed class BadInputTests(ITestOutputHelper output) : IAsyncLifetime, IDisposable
{
    private const int FiveMegabytes = 5 * 1024 * 1024;
    private const string TeamsServiceUrl = "http://127.0.0.1:9/teams/";

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private readonly List<string> _failures = [];
    private EndToEndWorld _world = null!;
    private FakeBotFrameworkAuthority _teams = null!;
    private HostProcess _host = null!;
    private Random _random = null!;
    private int _sent;

    public async Task InitializeAsync()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PREQUELBOT_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : Random.Shared.Next();
        output.WriteLine($"Fuzz seed: {seed} (set PREQUELBOT_FUZZ_SEED={seed} to repeat)");
        _random = new Random(seed);

        _world = await EndToEndWorld.CreateAsync();
        _teams = await FakeBotFrameworkAuthority.StartAsync();
        var settings = _world.Settings(_world.Sqlite());
        settings["Teams__AppId"] = FakeBotFrameworkAuthority.AppId;
        settings["Teams__AppPassword"] = FakeBotFrameworkAuthority.AppPassword;
        settings["Teams__OpenIdMetadataUrl"] = _teams.MetadataUrl;
        settings["Teams__TokenEndpoint"] = _teams.TokenEndpoint;
        _host = await _world.StartHostAsync("node", settings);
    }

    public void Dispose() => _http.Dispose();

    public async Task DisposeAsync()
    {
        if (_teams is not null) await _teams.DisposeAsync();
        await _world.DisposeAsync();
    }

    [Fact]
    public async Task Bad_input_on_every_endpoint_never_gets_a_5xx_keeps_the_host_up_and_changes_nothing()
    {
        // Arrange: the host is up, the channel is empty.
        // Act + Assert (per request): each bad request gets its expected status and never a 5xx.
        await WrongMethodsAndUnknownPathsAsync();
        await SlackWithoutAValidSignatureAsync("/slack/commands");
        await SlackWithoutAValidSignatureAsync("/slack/interactions");
        await SignedSlackBodiesThatAreMalformedAsync();
        await SignedSlackRequestsThatParseButMeanNothingAsync();
        await TeamsRequestsAsync();
        await ProbesAndDashboardAsync();
        await GarbageOnTheSocketAsync();

        // Assert: every failure at once, then the host is alive, and nothing was started.
        Assert.True(_failures.Count == 0, $"{_failures.Count} of {_sent} bad requests got the wrong answer:\n{string.Join('\n', _failures)}\n{_host.Tail()}");
        Assert.False(_host.HasExited, _host.Tail());
        using (var health = await _http.GetAsync(Url("/healthz"))) Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Empty(_world.SlackApi.CallsTo("chat.postMessage"));
        Assert.Empty(_world.SlackApi.CallsTo("chat.update"));
        await AssertStatusShowsNoOnboardingAsync();
        Assert.Empty(_world.Prequel.Sources);
        Assert.False(await _world.PubliclyAccessibleAsync());
        output.WriteLine($"{_sent} bad requests, all answered as expected.");
    }

    /// <summary>A signed <c>status</c>: the answer comes in the acknowledgement, or (on a slow machine) through <c>response_url</c>.</summary>
    private async Task AssertStatusShowsNoOnboardingAsync()
    {
        const string NoOnboardings = "No onboardings yet";
        var acknowledgement = await _world.Slack.CommandAsync(_host, "status");
        if (acknowledgement.Contains(NoOnboardings, StringComparison.Ordinal)) return;
        Assert.Contains("Working on it", acknowledgement, StringComparison.Ordinal);
        await Eventually.Async(
            () => Task.FromResult(_world.SlackApi.Calls.Any(c => c.Method == "hooks/commands/T0E2E/1/e2e" && c.Body.ToJsonString().Contains(NoOnboardings, StringComparison.Ordinal))),
            "the late status reply says there are no onboardings", EndToEndWorld.Patience);
    }

    private async Task WrongMethodsAndUnknownPathsAsync()
    {
        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
        {
            foreach (var path in new[] { "/slack/commands", "/slack/interactions", "/api/messages" })
                await ExpectAsync(new HttpRequestMessage(method, Url(path)) { Content = method == HttpMethod.Get ? null : Bytes(RandomBytes(64), "text/plain") }, HttpStatusCode.MethodNotAllowed);
        }

        foreach (var path in new[] { "/healthz", "/readyz" })
        {
            await ExpectAsync(new HttpRequestMessage(HttpMethod.Post, Url(path)) { Content = Bytes(RandomBytes(256), "application/octet-stream") }, HttpStatusCode.MethodNotAllowed);
            await ExpectAsync(new HttpRequestMessage(HttpMethod.Delete, Url(path)), HttpStatusCode.MethodNotAllowed);
        }

        foreach (var path in new[] { "/", "/slack", "/slack/commands/extra", "/api", "/api/messages/1", "/hangfire-not", "/%2e%2e/etc/passwd", "/" + RandomToken(40) })
            await ExpectAsync(new HttpRequestMessage(HttpMethod.Post, Url(path)) { Content = Bytes(RandomBytes(128), "application/x-www-form-urlencoded") }, HttpStatusCode.NotFound);
    }

    private async Task SlackWithoutAValidSignatureAsync(string path)
    {
        var form = SlackSigner.Form(("user_id", SlackWorkspace.Requester), ("channel_id", SlackWorkspace.Channel), ("command", "/prequel"), ("text", "connect mydb"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        // Random bytes, with every content type, and no signature at all.
        for (var i = 0; i < 10; i++)
            await ExpectAsync(Post(path, Bytes(RandomBytes(_random.Next(0, 4096)), RandomContentType())), HttpStatusCode.Unauthorized);

        // A valid command body whose signature is wrong, stale, missing a part or duplicated.
        await ExpectAsync(Signed(path, form, signature: SlackSigner.Sign("wrong-secret", now, form)), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, at: DateTimeOffset.UtcNow.AddMinutes(-10)), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, at: DateTimeOffset.UtcNow.AddMinutes(10)), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, timestamp: "not-a-number"), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, timestamp: ""), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, signature: ""), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, signature: "v1=" + new string('0', 64)), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, signature: "v0=" + RandomToken(500)), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, duplicateSignature: true), HttpStatusCode.Unauthorized);
        await ExpectAsync(Signed(path, form, duplicateTimestamp: true), HttpStatusCode.Unauthorized);
        var unsigned = Post(path, Bytes(Encoding.UTF8.GetBytes(form), "application/x-www-form-urlencoded"));
        await ExpectAsync(unsigned, HttpStatusCode.Unauthorized);
        // Signed over other bytes than those sent (a body swapped in transit).
        var tampered = Signed(path, form);
        tampered.Content = Bytes(Encoding.UTF8.GetBytes(form.Replace("mydb", "mydc", StringComparison.Ordinal)), "application/x-www-form-urlencoded");
        await ExpectAsync(tampered, HttpStatusCode.Unauthorized);

        // 5 MB, declared or chunked, unsigned or signed: refused by size before anything is parsed.
        await ExpectAsync(Post(path, Bytes(RandomBytes(FiveMegabytes), "application/x-www-form-urlencoded")), HttpStatusCode.RequestEntityTooLarge);
        var huge = Encoding.ASCII.GetString(RandomAscii(FiveMegabytes));
        await ExpectAsync(Signed(path, "text=" + huge), HttpStatusCode.RequestEntityTooLarge);
        await ExpectAsync(Post(path, Chunked(RandomAscii(FiveMegabytes), "application/x-www-form-urlencoded")), HttpStatusCode.RequestEntityTooLarge);
    }

    private async Task SignedSlackBodiesThatAreMalformedAsync()
    {
        foreach (var path in new[] { "/slack/commands", "/slack/interactions" })
        {
            // Valid signatures over random bytes (often not UTF-8) and over random form noise.
            for (var i = 0; i < 15; i++)
                await ExpectAsync(SignedBytes(path, RandomBytes(_random.Next(1, 2048)), "application/x-www-form-urlencoded"), HttpStatusCode.BadRequest);
            for (var i = 0; i < 15; i++)
                await ExpectAsync(Signed(path, RandomFormNoise()), HttpStatusCode.BadRequest);

            // The right fields in the wrong content type: JSON, text, multipart, none.
            var form = SlackSigner.Form(("user_id", SlackWorkspace.Requester), ("channel_id", SlackWorkspace.Channel), ("text", "status"),
                ("payload", "{\"type\":\"block_actions\"}"));
            foreach (var contentType in new[] { "application/json", "text/plain", "multipart/form-data; boundary=x", "application/xml", null })
                await ExpectAsync(SignedBytes(path, Encoding.UTF8.GetBytes(form), contentType), HttpStatusCode.BadRequest);
            await ExpectAsync(SignedBytes(path, Encoding.UTF8.GetBytes("{\"user_id\":\"U1\",\"channel_id\":\"C1\",\"text\":\"connect mydb\"}"), "application/json"), HttpStatusCode.BadRequest);
            // Empty body, properly signed.
            await ExpectAsync(SignedBytes(path, [], "application/x-www-form-urlencoded"), HttpStatusCode.BadRequest);
        }

        // Commands: the fields the command needs, missing, repeated or empty.
        foreach (var body in new[]
        {
            SlackSigner.Form(("channel_id", SlackWorkspace.Channel), ("text", "connect mydb")),
            SlackSigner.Form(("user_id", SlackWorkspace.Requester), ("text", "connect mydb")),
            SlackSigner.Form(("user_id", ""), ("channel_id", SlackWorkspace.Channel), ("text", "connect mydb")),
            SlackSigner.Form(("user_id", SlackWorkspace.Requester), ("user_id", "UOTHER"), ("channel_id", SlackWorkspace.Channel), ("text", "connect mydb")),
            SlackSigner.Form(("user_id", SlackWorkspace.Requester), ("channel_id", SlackWorkspace.Channel), ("channel_id", "C2"), ("text", "connect mydb")),
        })
            await ExpectAsync(Signed("/slack/commands", body), HttpStatusCode.BadRequest);

        // Interactions: a payload that is not JSON, not an object, or JSON of the wrong shape.
        var payloads = new List<string>
        {
            "", "{", "[]", "null", "42", "\"block_actions\"", "{\"type\":", "{\"type\":\"block_actions\",\"actions\":\"approve\"}",
            "{\"type\":\"block_actions\",\"actions\":[{\"action_id\":\"prequel_approve\"}]}",
            "{\"type\":\"block_actions\",\"user\":\"UAPPROVER\",\"actions\":[{\"action_id\":\"prequel_approve\",\"value\":\"ap-1\"}]}",
            "{\"type\":\"block_actions\",\"user\":{\"id\":42},\"actions\":[{\"action_id\":\"prequel_approve\",\"value\":7}]}",
            new string('[', 10_000) + new string(']', 10_000),
        };
        for (var i = 0; i < 10; i++) payloads.Add(Encoding.UTF8.GetString(RandomAscii(_random.Next(1, 512))));
        foreach (var payload in payloads)
            await ExpectAsync(Signed("/slack/interactions", SlackSigner.Form(("payload", payload))), HttpStatusCode.BadRequest, HttpStatusCode.OK);
        await ExpectAsync(Signed("/slack/interactions", SlackSigner.Form(("payload", "{}"), ("payload", "{}"))), HttpStatusCode.BadRequest);
    }

    /// <summary>Well-formed, signed requests with nonsense in them: answered 200 with an error for the user, nothing started.</summary>
    private async Task SignedSlackRequestsThatParseButMeanNothingAsync()
    {
        var texts = new List<string>
        {
            "", "connect", "connect nosuchdb", "connect mydb --user Robert'); DROP TABLE orders;--", "connect mydb --schemas",
            "connect mydb --bogus", "retry ob-nosuch", "cancel ob-nosuch", "status ob-../../etc", "status " + new string('x', 10_000),
            "connect nosuchdb --tables " + string.Join(',', Enumerable.Range(0, 2000).Select(i => $"s.t{i}")), "\u0000\u202e\ud83d\ude00",
        };
        for (var i = 0; i < 10; i++) texts.Add(RandomWord() + " " + Encoding.UTF8.GetString(RandomAscii(_random.Next(0, 200))));
        foreach (var text in texts)
        {
            var body = SlackSigner.Form(("user_id", SlackWorkspace.Requester), ("channel_id", SlackWorkspace.Channel), ("command", "/prequel"),
                ("text", text), ("response_url", _world.SlackApi.HooksUrl + "commands/fuzz"));
            await ExpectAsync(Signed("/slack/commands", body), HttpStatusCode.OK);
        }

        // A well-formed click on an approval that does not exist, and one by a stranger: 200, answered privately.
        foreach (var (user, approval) in new[] { (SlackWorkspace.Approver, "ap-doesnotexist"), ("USTRANGER", RandomToken(30)) })
        {
            var payload = new JsonObject
            {
                ["type"] = "block_actions",
                ["user"] = new JsonObject { ["id"] = user },
                ["channel"] = new JsonObject { ["id"] = SlackWorkspace.Channel },
                ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = "1.2", ["channel_id"] = SlackWorkspace.Channel },
                ["actions"] = new JsonArray { new JsonObject { ["action_id"] = "prequel_approve", ["value"] = approval } },
            };
            await ExpectAsync(Signed("/slack/interactions", SlackSigner.Form(("payload", payload.ToJsonString()))), HttpStatusCode.OK);
        }
    }

    private async Task TeamsRequestsAsync()
    {
        // No token, a bad token, a token of another app or issuer: 401 whatever the body.
        for (var i = 0; i < 10; i++)
            await ExpectAsync(Post("/api/messages", Bytes(RandomBytes(_random.Next(0, 4096)), RandomContentType())), HttpStatusCode.Unauthorized);
        foreach (var authorization in new[]
        {
            "Bearer", "Bearer " + RandomToken(200), "Basic dXNlcjpwYXNz", "Bearer a.b.c",
            "Bearer " + FakeBotFrameworkAuthority.MintHs256Token(TeamsServiceUrl), "Bearer " + FakeBotFrameworkAuthority.MintUnsignedToken(TeamsServiceUrl),
            "Bearer " + _teams.MintToken(TeamsServiceUrl, audience: "another-app"), "Bearer " + _teams.MintToken(TeamsServiceUrl, issuer: "https://evil.example"),
            "Bearer " + _teams.MintToken(TeamsServiceUrl, expires: DateTime.UtcNow.AddHours(-1), notBefore: DateTime.UtcNow.AddHours(-2)),
        })
        {
            var request = Post("/api/messages", Json(Activity("message", "connect mydb")));
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            await ExpectAsync(request, HttpStatusCode.Unauthorized);
        }

        // A valid token over malformed bodies: the parser runs, 400.
        var bodies = new List<byte[]>
        {
            Array.Empty<byte>(), "{"u8.ToArray(), "[]"u8.ToArray(), "null"u8.ToArray(), "{}"u8.ToArray(), "{\"type\":\"\"}"u8.ToArray(), "{\"type\":42}"u8.ToArray(),
            // Past the token checks (serviceUrl and channel match the token) but no conversation to answer in.
            Encoding.UTF8.GetBytes($"{{\"type\":\"message\",\"channelId\":\"msteams\",\"serviceUrl\":\"{TeamsServiceUrl}\"}}"),
            Encoding.UTF8.GetBytes($"{{\"type\":\"message\",\"channelId\":\"msteams\",\"serviceUrl\":\"{TeamsServiceUrl}\",\"conversation\":{{\"id\":\"\"}}}}"),
            Encoding.UTF8.GetBytes(new string('[', 5_000) + new string(']', 5_000)),
        };
        for (var i = 0; i < 15; i++) bodies.Add(RandomBytes(_random.Next(1, 2048)));
        foreach (var body in bodies)
            await ExpectAsync(Authorized(Bytes(body, "application/json")), HttpStatusCode.BadRequest);

        // A valid token, the activity's serviceUrl differs from the token's: 401 (README, "Endpoints").
        var other = Authorized(Json(Activity("message", "status", serviceUrl: "http://127.0.0.1:9/other/")));
        await ExpectAsync(other, HttpStatusCode.Unauthorized);

        // 5 MB behind a valid token, declared or chunked: refused without reading it all (the endpoint caps at 512 KB).
        await ExpectAsync(Authorized(Bytes(RandomAscii(FiveMegabytes), "application/json")), HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge);
        await ExpectAsync(Authorized(Chunked(RandomAscii(FiveMegabytes), "application/json")), HttpStatusCode.BadRequest, HttpStatusCode.RequestEntityTooLarge);
        // Unauthenticated 5 MB: refused before the body is read.
        await ExpectAsync(Post("/api/messages", Bytes(RandomBytes(FiveMegabytes), "application/json")), HttpStatusCode.Unauthorized);
    }

    private async Task ProbesAndDashboardAsync()
    {
        // The probes ignore what they are sent.
        foreach (var path in new[] { "/healthz", "/readyz", "/healthz?" + RandomToken(100), "/readyz?x=%ff%fe" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url(path));
            request.Headers.TryAddWithoutValidation("Accept", RandomToken(50));
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", "1.2.3.4, " + RandomToken(20));
            await ExpectAsync(request, HttpStatusCode.OK);
        }

        // The dashboard (local requests only; these are local): garbage form posts are refused (Hangfire: 422), and a
        // 5 MB form is cut off at the host's 1 MB body cap with 413 (it was a 500 from the form reader before the cap).
        foreach (var path in new[] { "/hangfire", "/hangfire/jobs/enqueued", "/hangfire/" + RandomToken(20), "/hangfire/jobs/details/" + RandomToken(10) })
            await ExpectAsync(new HttpRequestMessage(HttpMethod.Get, Url(path)), HttpStatusCode.OK, HttpStatusCode.NotFound);
        foreach (var path in new[] { "/hangfire/stats", "/hangfire/jobs/enqueued/delete", "/hangfire/recurring/trigger" })
        {
            await ExpectAsync(Post(path, Bytes(RandomBytes(1024), "application/x-www-form-urlencoded")), HttpStatusCode.OK, HttpStatusCode.NoContent, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.Forbidden, HttpStatusCode.UnprocessableEntity);
            await ExpectAsync(Post(path, Bytes(Encoding.ASCII.GetBytes("metrics[]=" + new string('a', FiveMegabytes)), "application/x-www-form-urlencoded")),
                HttpStatusCode.RequestEntityTooLarge);
        }
    }

    /// <summary>Not HTTP at all, a broken request line, two Content-Length headers: Kestrel answers 400 or hangs up, never 5xx.</summary>
    private async Task GarbageOnTheSocketAsync()
    {
        var raw = new List<byte[]>
        {
            RandomBytes(2048),
            Encoding.ASCII.GetBytes("POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello"),
            Encoding.ASCII.GetBytes("POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n"),
            Encoding.ASCII.GetBytes("POST /slack/commands HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
            Encoding.ASCII.GetBytes("BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
            Encoding.ASCII.GetBytes("GET /healthz HTTP/1.1\r\nHost: x\r\n" + new string('A', 64 * 1024) + ": y\r\n\r\n"),
        };
        foreach (var bytes in raw)
        {
            _sent++;
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, _host.BaseAddress.Port);
            var stream = client.GetStream();
            try
            {
                await stream.WriteAsync(bytes);
                client.Client.Shutdown(SocketShutdown.Send);
                using var reader = new StreamReader(stream, Encoding.ASCII);
                var statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                if (statusLine is not null && statusLine.Split(' ') is [_, var code, ..] && code.StartsWith('5'))
                    _failures.Add($"raw {Encoding.ASCII.GetString(bytes[..Math.Min(40, bytes.Length)])}… → {statusLine}");
            }
            catch (IOException)
            {
                // Kestrel hung up on it: fine.
            }
        }
    }

    // ---- requests ----

    private Uri Url(string path) => new(_host.BaseAddress, path);

    private HttpRequestMessage Post(string path, HttpContent content) => new(HttpMethod.Post, Url(path)) { Content = content };

    private HttpRequestMessage Signed(string path, string body, DateTimeOffset? at = null, string? timestamp = null, string? signature = null,
        bool duplicateSignature = false, bool duplicateTimestamp = false)
    {
        var request = SignedBytes(path, Encoding.UTF8.GetBytes(body), "application/x-www-form-urlencoded", at);
        if (timestamp is not null)
        {
            request.Headers.Remove("X-Slack-Request-Timestamp");
            request.Headers.TryAddWithoutValidation("X-Slack-Request-Timestamp", timestamp);
        }

        if (signature is not null)
        {
            request.Headers.Remove("X-Slack-Signature");
            request.Headers.TryAddWithoutValidation("X-Slack-Signature", signature);
        }

        if (duplicateSignature) request.Headers.TryAddWithoutValidation("X-Slack-Signature", "v0=" + new string('f', 64));
        if (duplicateTimestamp) request.Headers.TryAddWithoutValidation("X-Slack-Request-Timestamp", "1");
        return request;
    }

    /// <summary>A request whose v0 signature is valid for exactly <paramref name="body"/>.</summary>
    private HttpRequestMessage SignedBytes(string path, byte[] body, string? contentType, DateTimeOffset? at = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var request = Post(path, Bytes(body, contentType));
        request.Headers.TryAddWithoutValidation("X-Slack-Request-Timestamp", timestamp);
        request.Headers.TryAddWithoutValidation("X-Slack-Signature", SlackSigner.Sign(SlackWorkspace.SigningSecret, timestamp, body));
        return request;
    }

    private HttpRequestMessage Authorized(HttpContent content)
    {
        var request = Post("/api/messages", content);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _teams.MintToken(TeamsServiceUrl));
        return request;
    }

    private static JsonObject Activity(string type, string text, string serviceUrl = TeamsServiceUrl) => new()
    {
        ["type"] = type,
        ["id"] = "1",
        ["channelId"] = "msteams",
        ["serviceUrl"] = serviceUrl,
        ["from"] = new JsonObject { ["id"] = "29:fuzz", ["aadObjectId"] = "00000000-0000-0000-0000-000000000001" },
        ["conversation"] = new JsonObject { ["id"] = "19:fuzz" },
        ["recipient"] = new JsonObject { ["id"] = "28:" + FakeBotFrameworkAuthority.AppId },
        ["text"] = text,
    };

    private static ByteArrayContent Bytes(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    private static StringContent Json(JsonObject json) => new(json.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A body sent with <c>Transfer-Encoding: chunked</c> (no Content-Length), so the size is only known while reading.</summary>
    private static StreamContent Chunked(byte[] body, string contentType)
    {
        var content = new StreamContent(new UnseekableStream(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    /// <summary>Sends <paramref name="request"/>; records a failure unless the status is one of <paramref name="expected"/> (never a 5xx).</summary>
    private async Task ExpectAsync(HttpRequestMessage request, params HttpStatusCode[] expected)
    {
        _sent++;
        // Each bad request on its own connection: the host may close one after refusing a huge body unread.
        request.Headers.ConnectionClose = true;
        var what = $"{request.Method} {request.RequestUri!.PathAndQuery[..Math.Min(80, request.RequestUri.PathAndQuery.Length)]} ({request.Content?.Headers.ContentType?.ToString() ?? "no content type"}, {request.Content?.Headers.ContentLength?.ToString(CultureInfo.InvariantCulture) ?? "?"} bytes)";
        try
        {
            var (status, body) = request.Content is { } content && (content.Headers.ContentLength is null or > 256 * 1024)
                ? await SendHugeAsync(request)
                : await SendAsync(request);
            if (status >= 500 || !expected.Contains((HttpStatusCode)status))
                _failures.Add($"{what} → {status}, expected {string.Join('/', expected.Select(e => (int)e))}: {body[..Math.Min(200, body.Length)]}");
        }
        finally
        {
            request.Dispose();
        }
    }

    private async Task<(int Status, string Body)> SendAsync(HttpRequestMessage request)
    {
        using var response = await _http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Sends a huge body over a raw socket while reading the answer: the host answers (413, 401, 400) without reading
    /// the body and closes the connection, which HttpClient reports as a failed send instead of the status. Bodies
    /// without a Content-Length go chunked.
    /// </summary>
    private async Task<(int Status, string Body)> SendHugeAsync(HttpRequestMessage request)
    {
        var body = await request.Content!.ReadAsByteArrayAsync();
        var chunked = request.Content.Headers.ContentLength is null;
        var head = new StringBuilder($"{request.Method} {request.RequestUri!.PathAndQuery} HTTP/1.1\r\nHost: {request.RequestUri.Authority}\r\nConnection: close\r\n");
        foreach (var (name, values) in request.Headers.Where(h => h.Key != "Connection").Concat(request.Content.Headers.Where(h => h.Key != "Content-Length")))
            foreach (var value in values) head.Append(CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        head.Append(chunked ? "Transfer-Encoding: chunked\r\n\r\n" : $"Content-Length: {body.Length}\r\n\r\n");

        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _host.BaseAddress.Port);
        var stream = client.GetStream();
        var sending = Task.Run(async () =>
        {
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()));
                for (var offset = 0; offset < body.Length; offset += 64 * 1024)
                {
                    var chunk = body.AsMemory(offset, Math.Min(64 * 1024, body.Length - offset));
                    if (chunked) await stream.WriteAsync(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
                    await stream.WriteAsync(chunk);
                    if (chunked) await stream.WriteAsync("\r\n"u8.ToArray());
                }

                if (chunked) await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
            }
            catch (IOException)
            {
                // The host answered and hung up before the body was sent: expected for a refused body.
            }
        });
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string? statusLine;
        try
        {
            statusLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (IOException e)
        {
            statusLine = "reset before an answer: " + e.Message;
        }

        await sending.WaitAsync(TimeSpan.FromSeconds(60));
        return statusLine?.Split(' ') is [_, var code, ..] && int.TryParse(code, CultureInfo.InvariantCulture, out var status)
            ? (status, statusLine)
            : (0, $"no HTTP answer: {statusLine}");
    }

    // ---- randomness (all from the printed seed) ----

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private byte[] RandomAscii(int length)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = (byte)_random.Next(32, 127);
        return bytes;
    }

    private string RandomToken(int length) => string.Concat(Enumerable.Range(0, length).Select(_ => (char)_random.Next('a', 'z' + 1)));

    private string RandomWord() => new[] { "connect", "plan", "status", "cancel", "retry", "help", "", "CONNECT", "--user" }[_random.Next(9)];

    private string RandomContentType() => new[]
    {
        "application/x-www-form-urlencoded", "application/json", "text/plain", "multipart/form-data; boundary=----x", "application/octet-stream",
        "application/x-www-form-urlencoded; charset=utf-16", "garbage", "",
    }[_random.Next(8)];

    /// <summary>Random <c>key=value&amp;…</c> noise: fields that are not the ones a command or click needs.</summary>
    private string RandomFormNoise() =>
        string.Join('&', Enumerable.Range(0, _random.Next(1, 20)).Select(_ => RandomToken(_random.Next(1, 10)) + "=" + Uri.EscapeDataString(Encoding.ASCII.GetString(RandomAscii(_random.Next(0, 50))))
            + (_random.Next(4) == 0 ? "%" + RandomToken(1) : "")));

    /// <summary>A read-only stream of unknown length, so HttpClient sends the body chunked.</summary>
    private sealed class UnseekableStream(byte[] body) : MemoryStream(body, writable: false)
    {
        public override bool CanSeek => false;
    }
}
