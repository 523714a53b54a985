using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PrequelBot.Chat.Slack.Tests.Fakes;

/// <summary>A call the fake received: the Web API method (or <c>hooks/…</c> for response_url posts), body and headers.</summary>
public sealed record FakeSlackCall(string Method, JsonObject Body, string? Authorization, string? ContentType);

/// <summary>A message the fake holds, by <c>ts</c>.</summary>
public sealed record FakeSlackMessage(string Channel, string Ts, string? ThreadTs, string? Text, JsonArray? Blocks);

/// <summary>
/// A recording fake of the Slack Web API on 127.0.0.1, speaking the real wire format: <c>chat.postMessage</c>,
/// <c>chat.update</c>, <c>chat.postEphemeral</c> under <see cref="BaseUrl"/>, and a <c>response_url</c> sink under
/// <see cref="HooksUrl"/>. It checks the Bearer token, keeps messages by ts, and can fail the next calls with 429 or
/// an <c>ok:false</c> error. Point <c>Slack:ApiBaseUrl</c> at <see cref="BaseUrl"/>.
/// </summary>
public sealed class FakeSlackApi : IAsyncDisposable
{
    private readonly ConcurrentQueue<Func<HttpContext, Task<bool>>> _faults = new();
    private WebApplication? _app;
    private int _nextTs;

    public FakeSlackApi(string botToken = "xoxb-test") => BotToken = botToken;

    /// <summary>The token requests must carry.</summary>
    public string BotToken { get; }

    /// <summary><c>http://127.0.0.1:{port}/api/</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary><c>http://127.0.0.1:{port}/hooks/</c>: use as a <c>response_url</c> prefix.</summary>
    public string HooksUrl { get; private set; } = "";

    public ConcurrentDictionary<string, FakeSlackMessage> Messages { get; } = new();

    public ConcurrentQueue<FakeSlackCall> Calls { get; } = new();

    public IEnumerable<FakeSlackCall> CallsTo(string method) => Calls.Where(c => c.Method == method);

    /// <summary>The calls of <see cref="Calls"/> that a fault answered (429 or <c>ok:false</c>): nothing of them was delivered.</summary>
    public ConcurrentQueue<FakeSlackCall> Faulted { get; } = new();

    /// <summary>Calls to <paramref name="method"/> that were not answered by a fault.</summary>
    public IEnumerable<FakeSlackCall> DeliveredCallsTo(string method) => CallsTo(method).Where(c => !Faulted.Any(f => ReferenceEquals(f, c)));

    /// <summary>The next <paramref name="count"/> Web API calls answer HTTP 429 with <c>Retry-After: {seconds}</c>.</summary>
    public void RateLimitNext(int count, int retryAfterSeconds)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(async context =>
            {
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                await context.Response.WriteAsJsonAsync(new { ok = false, error = "ratelimited" });
                return true;
            });
        }
    }

    /// <summary>Drops the faults not yet used: the following calls are answered normally again.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <summary>The next <paramref name="count"/> Web API calls answer HTTP 200 <c>{"ok":false,"error":…}</c>.</summary>
    public void FailNext(string error, int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(async context =>
            {
                await context.Response.WriteAsJsonAsync(new { ok = false, error });
                return true;
            });
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/api/{method}", HandleApiAsync);
        _app.MapPost("/hooks/{**path}", HandleHookAsync);
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        BaseUrl = address + "/api/";
        HooksUrl = address + "/hooks/";
    }

    /// <summary>Waits until <paramref name="method"/> has been called <paramref name="count"/> times.</summary>
    public async Task<IReadOnlyList<FakeSlackCall>> WaitForCallsAsync(string method, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            var calls = CallsTo(method).ToList();
            if (calls.Count >= count) return calls;
            await Task.Delay(25);
        }

        throw new TimeoutException($"The fake Slack API did not receive {count} call(s) to {method}.");
    }

    private async Task HandleApiAsync(HttpContext context, string method)
    {
        var body = await ReadJsonAsync(context);
        var authorization = context.Request.Headers.Authorization.ToString();
        var call = new FakeSlackCall(method, body ?? [], authorization, context.Request.ContentType);
        Calls.Enqueue(call);

        if (_faults.TryDequeue(out var fault) && await fault(context))
        {
            Faulted.Enqueue(call);
            return;
        }

        if (authorization != "Bearer " + BotToken) { await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "invalid_auth" }); return; }
        if (body is null || context.Request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
        {
            await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "invalid_json" });
            return;
        }

        var channel = body["channel"]?.GetValue<string>();
        if (string.IsNullOrEmpty(channel)) { await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "channel_not_found" }); return; }

        switch (method)
        {
            case "chat.postMessage":
                var n = Interlocked.Increment(ref _nextTs);
                var ts = string.Create(CultureInfo.InvariantCulture, $"{1531420650 + n}.{n * 100:D6}");
                Messages[ts] = new FakeSlackMessage(channel, ts, body["thread_ts"]?.GetValue<string>(), body["text"]?.GetValue<string>(), body["blocks"]?.DeepClone() as JsonArray);
                await Reply(context, new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts, ["message"] = new JsonObject { ["ts"] = ts } });
                return;
            case "chat.update":
                var updateTs = body["ts"]?.GetValue<string>() ?? "";
                if (!Messages.TryGetValue(updateTs, out var existing) || existing.Channel != channel)
                {
                    await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "message_not_found" });
                    return;
                }

                Messages[updateTs] = existing with { Text = body["text"]?.GetValue<string>(), Blocks = body["blocks"]?.DeepClone() as JsonArray ?? existing.Blocks };
                await Reply(context, new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = updateTs, ["text"] = body["text"]?.DeepClone() });
                return;
            case "chat.postEphemeral":
                await Reply(context, new JsonObject { ["ok"] = true, ["message_ts"] = "1531420999.000001" });
                return;
            default:
                await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "unknown_method" });
                return;
        }
    }

    private async Task HandleHookAsync(HttpContext context, string path)
    {
        var body = await ReadJsonAsync(context);
        Calls.Enqueue(new FakeSlackCall("hooks/" + path, body ?? [], context.Request.Headers.Authorization.ToString(), context.Request.ContentType));
        await context.Response.WriteAsync("ok");
    }

    private static async Task<JsonObject?> ReadJsonAsync(HttpContext context)
    {
        try
        {
            return await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static Task Reply(HttpContext context, JsonObject json)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(json.ToJsonString());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
