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

/// <summary>A message the fake holds, by <c>ts</c>, with the message metadata it was posted with and its order of posting.</summary>
public sealed record FakeSlackMessage(string Channel, string Ts, string? ThreadTs, string? Text, JsonArray? Blocks, JsonObject? Metadata = null, int Order = 0);

/// <summary>
/// A post whose answer the fake holds back (<see cref="FakeSlackApi.HoldAnswer"/>): the message is kept, then the answer
/// waits until <see cref="Release"/> or until the caller goes away (a killed host).
/// </summary>
public sealed class HeldAnswer(Func<FakeSlackCall, bool> matches)
{
    private readonly TaskCompletionSource<FakeSlackCall> _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _taken;

    /// <summary>Completes once a matching post is stored and its answer is being held.</summary>
    public Task<FakeSlackCall> Delivered => _delivered.Task;

    /// <summary>Lets the held answer go.</summary>
    public void Release() => _released.TrySetResult();

    internal bool TryTake(FakeSlackCall call) => matches(call) && Interlocked.Exchange(ref _taken, 1) == 0;

    internal async Task HoldAsync(FakeSlackCall call, CancellationToken requestAborted)
    {
        _delivered.TrySetResult(call);
        try
        {
            await _released.Task.WaitAsync(requestAborted);
        }
        catch (OperationCanceledException)
        {
            // The caller is gone: nobody reads the answer.
        }
    }
}

/// <summary>
/// A recording fake of the Slack Web API on 127.0.0.1, speaking the real wire format: <c>chat.postMessage</c> (with
/// message <c>metadata</c>), <c>chat.update</c>, <c>chat.postEphemeral</c> (JSON bodies), <c>conversations.history</c>
/// and <c>conversations.replies</c> (form-encoded, as Slack's read methods take them; newest first for history, the
/// parent then replies oldest first for a thread; metadata only with <c>include_all_metadata</c>; cursor paging) under
/// <see cref="BaseUrl"/>, and a <c>response_url</c> sink under <see cref="HooksUrl"/>. It checks the Bearer token, keeps
/// messages by ts, can fail the next calls with 429 or an <c>ok:false</c> error, and can hold back the answer of a
/// post it kept (<see cref="HoldAnswer"/>). Point <c>Slack:ApiBaseUrl</c> at <see cref="BaseUrl"/>.
/// It also plays Slack's side of Socket Mode (https://docs.slack.dev/apis/events-api/using-socket-mode):
/// <c>apps.connections.open</c> with <see cref="AppToken"/> hands out a single-use <c>ws://127.0.0.1…/link/?ticket=…</c>
/// URL; each connection is greeted with <c>hello</c>; tests send envelopes (<see cref="SendEnvelopeAsync"/>), read the
/// acknowledgements, and ask a connection to refresh (<see cref="FakeSocketModeConnection.DisconnectAsync"/>).
/// </summary>
public sealed class FakeSlackApi : IAsyncDisposable
{
    private readonly ConcurrentQueue<Func<HttpContext, Task<bool>>> _faults = new();
    private readonly ConcurrentDictionary<string, bool> _tickets = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<HeldAnswer> _holds = new();
    private WebApplication? _app;
    private string _address = "";
    private int _nextTs;
    private int _nextConnection;
    private int _nextEnvelope;
    private long _lastMicros;

    public FakeSlackApi(string botToken = "xoxb-test", string appToken = "xapp-1-A0123456789-test")
    {
        BotToken = botToken;
        AppToken = appToken;
    }

    /// <summary>The token requests must carry.</summary>
    public string BotToken { get; }

    /// <summary>The app-level token <c>apps.connections.open</c> must carry (Socket Mode).</summary>
    public string AppToken { get; }

    /// <summary>Every Socket Mode connection ever opened, in order.</summary>
    public ConcurrentQueue<FakeSocketModeConnection> SocketConnections { get; } = new();

    /// <summary>The Socket Mode connections currently open.</summary>
    public IReadOnlyList<FakeSocketModeConnection> OpenSocketConnections => [.. SocketConnections.Where(c => c.IsOpen)];

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

    /// <summary>
    /// The first later <c>chat.postMessage</c> that <paramref name="matches"/> is stored as usual, and then its answer is
    /// held until <see cref="HeldAnswer.Release"/> or until the caller disconnects: exactly the moment after Slack posted a
    /// message and before the bot learnt its ts.
    /// </summary>
    public HeldAnswer HoldAnswer(Func<FakeSlackCall, bool> matches)
    {
        var hold = new HeldAnswer(matches);
        _holds.Enqueue(hold);
        return hold;
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
        _app.UseWebSockets();
        _app.MapPost("/api/{method}", HandleApiAsync);
        _app.MapPost("/hooks/{**path}", HandleHookAsync);
        _app.Map("/link", HandleSocketAsync);
        await _app.StartAsync(cancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        _address = address;
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
        var isRead = method is "conversations.history" or "conversations.replies";
        var body = isRead ? await ReadFormAsync(context) : await ReadJsonAsync(context);
        var authorization = context.Request.Headers.Authorization.ToString();
        var call = new FakeSlackCall(method, body ?? [], authorization, context.Request.ContentType);
        Calls.Enqueue(call);

        if (_faults.TryDequeue(out var fault) && await fault(context))
        {
            Faulted.Enqueue(call);
            return;
        }

        if (method == "apps.connections.open")
        {
            if (authorization != "Bearer " + AppToken) { await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "invalid_auth" }); return; }
            var ticket = Guid.NewGuid().ToString("N");
            _tickets[ticket] = true;
            await Reply(context, new JsonObject { ["ok"] = true, ["url"] = "ws" + _address["http".Length..] + "/link/?ticket=" + ticket });
            return;
        }

        if (authorization != "Bearer " + BotToken) { await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "invalid_auth" }); return; }
        if (body is null || (!isRead && context.Request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true))
        {
            await Reply(context, new JsonObject { ["ok"] = false, ["error"] = isRead ? "invalid_arguments" : "invalid_json" });
            return;
        }

        var channel = body["channel"]?.GetValue<string>();
        if (string.IsNullOrEmpty(channel)) { await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "channel_not_found" }); return; }

        switch (method)
        {
            case "chat.postMessage":
                var metadata = body["metadata"] as JsonObject;
                if (body["metadata"] is not null && (metadata?["event_type"] is not JsonValue || metadata["event_payload"] is not JsonObject))
                {
                    await Reply(context, new JsonObject { ["ok"] = false, ["error"] = "invalid_metadata_format" });
                    return;
                }

                var threadTs = body["thread_ts"]?.GetValue<string>();

                // Like Slack's: the posting time in microseconds (strictly increasing here), as "seconds.micros".
                var n = Interlocked.Increment(ref _nextTs);
                var micros = NextMicros();
                var ts = string.Create(CultureInfo.InvariantCulture, $"{micros / 1_000_000}.{micros % 1_000_000:D6}");
                Messages[ts] = new FakeSlackMessage(channel, ts, threadTs, body["text"]?.GetValue<string>(), body["blocks"]?.DeepClone() as JsonArray,
                    metadata?.DeepClone() as JsonObject, n);
                foreach (var hold in _holds)
                {
                    if (hold.TryTake(call))
                    {
                        await hold.HoldAsync(call, context.RequestAborted);
                        break;
                    }
                }

                await Reply(context, new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts, ["message"] = MessageJson(Messages[ts], withMetadata: true) });
                return;
            case "conversations.history":
                await Reply(context, History(channel, body));
                return;
            case "conversations.replies":
                await Reply(context, Replies(channel, body));
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

    /// <summary>Waits until at least <paramref name="count"/> Socket Mode connections are open and greeted.</summary>
    public async Task<IReadOnlyList<FakeSocketModeConnection>> WaitForSocketConnectionsAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            var open = OpenSocketConnections;
            if (open.Count >= count) return open;
            await Task.Delay(25);
        }

        throw new TimeoutException($"The bot did not hold {count} Socket Mode connection(s).");
    }

    /// <summary>
    /// Sends a Socket Mode envelope of <paramref name="type"/> (<c>slash_commands</c>, <c>interactive</c>, …) on
    /// <paramref name="connection"/> (default: the newest open one) and waits up to 3 s, Slack's limit, for its
    /// acknowledgement, which it returns. <paramref name="envelopeId"/> repeats an earlier envelope (a retry).
    /// </summary>
    public async Task<JsonObject> SendEnvelopeAsync(string type, JsonObject payload, FakeSocketModeConnection? connection = null, string? envelopeId = null, int retryAttempt = 0)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var open = OpenSocketConnections;
        connection ??= open.Count > 0 ? open[^1] : throw new InvalidOperationException("No Socket Mode connection is open.");
        envelopeId ??= string.Create(CultureInfo.InvariantCulture, $"{Guid.NewGuid():D}-{Interlocked.Increment(ref _nextEnvelope)}");
        var envelope = new JsonObject
        {
            ["envelope_id"] = envelopeId,
            ["payload"] = payload.DeepClone(),
            ["type"] = type,
            ["accepts_response_payload"] = type == "slash_commands",
            ["retry_attempt"] = retryAttempt,
            ["retry_reason"] = retryAttempt == 0 ? "" : "timeout",
        };
        var before = connection.AcksFor(envelopeId).Count;
        await connection.SendAsync(envelope);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < deadline)
        {
            var acks = connection.AcksFor(envelopeId);
            if (acks.Count > before) return acks[^1];
            await Task.Delay(10);
        }

        throw new TimeoutException($"Envelope {envelopeId} ({type}) was not acknowledged within 3 s on connection {connection.Id}.");
    }

    private async Task HandleSocketAsync(HttpContext context)
    {
        var ticket = context.Request.Query["ticket"].ToString();
        if (!context.WebSockets.IsWebSocketRequest || !_tickets.TryRemove(ticket, out _))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new FakeSocketModeConnection(Interlocked.Increment(ref _nextConnection), socket);
        await connection.SendAsync(new JsonObject
        {
            ["type"] = "hello",
            ["num_connections"] = OpenSocketConnections.Count + 1,
            ["connection_info"] = new JsonObject { ["app_id"] = "A0123456789" },
            ["debug_info"] = new JsonObject { ["host"] = "fake", ["approximate_connection_time"] = 18060 },
        });
        SocketConnections.Enqueue(connection);
        await connection.ReceiveUntilClosedAsync(context.RequestAborted);
    }

    private long NextMicros()
    {
        while (true)
        {
            var last = Interlocked.Read(ref _lastMicros);
            var next = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000, last + 1);
            if (Interlocked.CompareExchange(ref _lastMicros, next, last) == last) return next;
        }
    }

    /// <summary>
    /// <c>conversations.history</c>: the channel's top-level messages (thread replies are not in history), newest first,
    /// within <c>oldest</c>/<c>latest</c> (exclusive unless <c>inclusive</c>), <c>limit</c> per page (default 100).
    /// </summary>
    private JsonObject History(string channel, JsonObject args)
    {
        var oldest = Ts(args["oldest"]) ?? 0m;
        var latest = Ts(args["latest"]) ?? decimal.MaxValue;
        var inclusive = Flag(args["inclusive"]);
        var messages = Messages.Values
            .Where(m => m.Channel == channel && (m.ThreadTs is null || m.ThreadTs == m.Ts))
            .Where(m => Ts(m.Ts) is { } t && (inclusive ? t >= oldest && t <= latest : t > oldest && t < latest))
            .OrderByDescending(m => m.Order);
        return Page(messages, args);
    }

    /// <summary><c>conversations.replies</c>: the parent of thread <c>ts</c> first, then its replies oldest first; <c>thread_not_found</c> for an unknown ts.</summary>
    private JsonObject Replies(string channel, JsonObject args)
    {
        var ts = args["ts"]?.GetValue<string>();
        if (ts is null) return new JsonObject { ["ok"] = false, ["error"] = "invalid_arguments" };
        if (!Messages.TryGetValue(ts, out var parent) || parent.Channel != channel) return new JsonObject { ["ok"] = false, ["error"] = "thread_not_found" };
        var thread = Messages.Values.Where(m => m.Channel == channel && m.ThreadTs == ts && m.Ts != ts).OrderBy(m => m.Order).Prepend(parent);
        return Page(thread, args);
    }

    private static JsonObject Page(IEnumerable<FakeSlackMessage> all, JsonObject args)
    {
        var limit = int.TryParse(args["limit"]?.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var l) && l > 0 ? Math.Min(l, 999) : 100;
        var offset = args["cursor"]?.GetValue<string>() is { Length: > 0 } cursor && cursor.StartsWith("offset:", StringComparison.Ordinal)
            ? int.Parse(cursor["offset:".Length..], CultureInfo.InvariantCulture) : 0;
        var withMetadata = Flag(args["include_all_metadata"]);
        var list = all.ToList();
        var page = list.Skip(offset).Take(limit).ToList();
        var hasMore = offset + page.Count < list.Count;
        return new JsonObject
        {
            ["ok"] = true,
            ["messages"] = new JsonArray([.. page.Select(m => (JsonNode)MessageJson(m, withMetadata))]),
            ["has_more"] = hasMore,
            ["response_metadata"] = new JsonObject { ["next_cursor"] = hasMore ? string.Create(CultureInfo.InvariantCulture, $"offset:{offset + page.Count}") : "" },
        };
    }

    /// <summary>A message as Slack's read methods return it; <c>metadata</c> only when asked for.</summary>
    private static JsonObject MessageJson(FakeSlackMessage m, bool withMetadata)
    {
        var json = new JsonObject
        {
            ["type"] = "message",
            ["subtype"] = "bot_message",
            ["bot_id"] = "B0FAKEBOT",
            ["app_id"] = "A0FAKEAPP",
            ["text"] = m.Text,
            ["ts"] = m.Ts,
        };
        if (m.ThreadTs is not null) json["thread_ts"] = m.ThreadTs;
        if (m.Blocks is not null) json["blocks"] = m.Blocks.DeepClone();
        if (withMetadata && m.Metadata is not null) json["metadata"] = m.Metadata.DeepClone();
        return json;
    }

    private static decimal? Ts(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text) ? Ts(text) : null;

    private static decimal? Ts(string text) =>
        decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var t) ? t : null;

    private static bool Flag(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var text) && (text == "true" || text == "1");

    /// <summary>A form-encoded (or query-string) request as a JSON object of strings; null when it is neither.</summary>
    private static async Task<JsonObject?> ReadFormAsync(HttpContext context)
    {
        var result = new JsonObject();
        foreach (var (key, value) in context.Request.Query) result[key] = value.ToString();
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync();
            foreach (var (key, value) in form) result[key] = value.ToString();
        }
        else if (context.Request.ContentLength is > 0)
        {
            return null;
        }

        return result;
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
        foreach (var connection in SocketConnections)
        {
            connection.Abort();
            connection.Dispose();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>Slack's end of one Socket Mode connection: what it sent and the acknowledgements it received.</summary>
public sealed class FakeSocketModeConnection(int id, System.Net.WebSockets.WebSocket socket) : IDisposable
{
    private readonly SemaphoreSlim _send = new(1, 1);
    private volatile bool _open = true;

    public int Id { get; } = id;

    public bool IsOpen => _open && socket.State == System.Net.WebSockets.WebSocketState.Open;

    /// <summary>Every message the bot sent on this connection (acknowledgements), in order.</summary>
    public ConcurrentQueue<JsonObject> Received { get; } = new();

    public IReadOnlyList<JsonObject> AcksFor(string envelopeId) =>
        [.. Received.Where(m => m["envelope_id"]?.GetValue<string>() == envelopeId)];

    public async Task SendAsync(JsonObject message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var bytes = System.Text.Encoding.UTF8.GetBytes(message.ToJsonString());
        await _send.WaitAsync();
        try
        {
            await socket.SendAsync(bytes, System.Net.WebSockets.WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Sends <c>{"type":"disconnect","reason":…}</c>, as Slack does before it drops a connection (<c>refresh_requested</c>, <c>warning</c>, <c>link_disabled</c>).</summary>
    public Task DisconnectAsync(string reason = "refresh_requested") =>
        SendAsync(new JsonObject { ["type"] = "disconnect", ["reason"] = reason, ["debug_info"] = new JsonObject { ["host"] = "fake" } });

    public void Dispose() => _send.Dispose();

    internal async Task ReceiveUntilClosedAsync(CancellationToken aborted)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (socket.State == System.Net.WebSockets.WebSocketState.Open)
            {
                using var message = new MemoryStream();
                System.Net.WebSockets.WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, aborted);
                    message.Write(buffer, 0, result.Count);
                } while (!result.EndOfMessage);

                if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
                {
                    _open = false;
                    await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }

                if (JsonNode.Parse(message.ToArray()) is JsonObject json) Received.Enqueue(json);
            }
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or OperationCanceledException)
        {
            // The bot went away.
        }
        finally
        {
            _open = false;
        }
    }

    public void Abort()
    {
        _open = false;
        socket.Abort();
    }
}
