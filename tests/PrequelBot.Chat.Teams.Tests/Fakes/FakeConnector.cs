using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace PrequelBot.Chat.Teams.Tests.Fakes;

/// <summary>One request the connector received. <see cref="RawTarget"/> is the path as sent (still percent-encoded).</summary>
public sealed record ConnectorCall(string Method, string RawTarget, string ConversationId, string? ActivityId, string? Authorization, JsonObject Body, int Status);

/// <summary>
/// A local Bot Connector on 127.0.0.1 under <see cref="ServiceUrl"/>: POST/PUT on <c>v3/conversations/{c}/activities[/{id}]</c>,
/// keeps the latest body of each activity by id, records every call, and can answer a given status N times (429 with Retry-After).
/// </summary>
public sealed class FakeConnector : IAsyncDisposable
{
    /// <summary>Every text an activity shows: its <c>text</c> and each TextBlock of its cards.</summary>
    public static IReadOnlyList<string> Texts(JsonObject activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var texts = new List<string>();
        if (activity["text"]?.GetValue<string>() is { } text) texts.Add(text);
        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    if ((string?)o["type"] == "TextBlock" && o["text"]?.GetValue<string>() is { } t) texts.Add(t);
                    foreach (var (_, child) in o) Walk(child);
                    break;
                case JsonArray a:
                    foreach (var child in a) Walk(child);
                    break;
            }
        }

        Walk(activity["attachments"]);
        return texts;
    }

    private readonly ConcurrentQueue<(int Status, TimeSpan? RetryAfter)> _faults = new();
    private readonly ConcurrentQueue<ConnectorCall> _calls = new();
    private readonly ConcurrentQueue<HeldConnectorAnswer> _holds = new();
    private int _sequence;
    private WebApplication? _app;

    public string BaseUrl { get; private set; } = "";
    /// <summary>The serviceUrl to put in activities: <c>{BaseUrl}connector/</c>.</summary>
    public string ServiceUrl => BaseUrl + "connector/";
    /// <summary>The bearer value calls must carry; null accepts any (or none).</summary>
    public string? ExpectedToken { get; set; } = FakeBotFrameworkAuthority.OutboundToken;

    public IReadOnlyList<ConnectorCall> Calls => [.. _calls];
    /// <summary>Calls answered with 2xx.</summary>
    public IReadOnlyList<ConnectorCall> Delivered => [.. _calls.Where(c => c.Status < 300)];
    /// <summary>The current body of every activity, by the id the connector gave it.</summary>
    public ConcurrentDictionary<string, JsonObject> Activities { get; } = new();

    public static async Task<FakeConnector> StartAsync()
    {
        var connector = new FakeConnector();
        (connector._app, connector.BaseUrl) = await LoopbackServer.StartAsync(connector.Map);
        return connector;
    }

    /// <summary>The next <paramref name="times"/> calls answer <paramref name="status"/> (429s carry Retry-After when given).</summary>
    public void Fail(int status, int times = 1, TimeSpan? retryAfter = null)
    {
        for (var i = 0; i < times; i++) _faults.Enqueue((status, retryAfter));
    }

    /// <summary>
    /// The first later <c>POST</c> whose body <paramref name="matches"/> is kept as usual (and recorded as delivered), and
    /// then its answer is held until <see cref="HeldConnectorAnswer.Release"/> or until the caller disconnects: the moment
    /// after the Connector accepted an activity and before the bot learnt its id.
    /// </summary>
    public HeldConnectorAnswer HoldAnswer(Func<JsonObject, bool> matches)
    {
        var hold = new HeldConnectorAnswer(matches);
        _holds.Enqueue(hold);
        return hold;
    }

    /// <summary>Waits until at least <paramref name="count"/> calls were delivered.</summary>
    public async Task<IReadOnlyList<ConnectorCall>> WaitForDeliveriesAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (Delivered.Count < count && DateTime.UtcNow < deadline) await Task.Delay(20);
        return Delivered;
    }

    private void Map(WebApplication app)
    {
        app.MapPost("/connector/v3/conversations/{conversationId}/activities", (HttpContext c, string conversationId) => Handle(c, conversationId, null));
        app.MapPost("/connector/v3/conversations/{conversationId}/activities/{activityId}", (HttpContext c, string conversationId, string activityId) => Handle(c, conversationId, activityId));
        app.MapPut("/connector/v3/conversations/{conversationId}/activities/{activityId}", (HttpContext c, string conversationId, string activityId) => Handle(c, conversationId, activityId));
    }

    private async Task<IResult> Handle(HttpContext context, string conversationId, string? activityId)
    {
        var raw = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
        var authorization = context.Request.Headers.Authorization.ToString();
        var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject ?? [];

        int status;
        IResult result;
        if (ExpectedToken is not null && authorization != "Bearer " + ExpectedToken)
        {
            (status, result) = (401, Results.Json(new { error = new { code = "BotNotRegistered", message = "bad token" } }, statusCode: 401));
        }
        else if (_faults.TryDequeue(out var fault))
        {
            if (fault.RetryAfter is { } wait)
                context.Response.Headers.RetryAfter = ((int)wait.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            (status, result) = (fault.Status, Results.Json(new { error = new { code = "Fault", message = "injected" } }, statusCode: fault.Status));
        }
        else if (context.Request.Method == HttpMethods.Put)
        {
            if (!Activities.ContainsKey(activityId!))
                (status, result) = (404, Results.Json(new { error = new { code = "ActivityNotFound", message = "no such activity" } }, statusCode: 404));
            else
            {
                Activities[activityId!] = body;
                (status, result) = (200, Results.Json(new { id = activityId }));
            }
        }
        else
        {
            var id = Interlocked.Increment(ref _sequence).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Activities[id] = body;
            (status, result) = (200, Results.Json(new { id }));
            if (_holds.FirstOrDefault(h => h.TryTake(body)) is { } hold)
            {
                _calls.Enqueue(new ConnectorCall(context.Request.Method, raw, conversationId, activityId, authorization, body, status));
                await hold.HoldAsync(id, context.RequestAborted);
                return result;
            }
        }
        _calls.Enqueue(new ConnectorCall(context.Request.Method, raw, conversationId, activityId, authorization, body, status));
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _app = null;
    }
}

/// <summary>An activity POST whose answer <see cref="FakeConnector.HoldAnswer"/> holds back; the activity itself is kept.</summary>
public sealed class HeldConnectorAnswer(Func<JsonObject, bool> matches)
{
    private readonly TaskCompletionSource<string> _delivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _taken;

    /// <summary>Completes with the kept activity's id once its answer is being held.</summary>
    public Task<string> Delivered => _delivered.Task;

    public void Release() => _released.TrySetResult();

    internal bool TryTake(JsonObject body) => matches(body) && Interlocked.Exchange(ref _taken, 1) == 0;

    internal async Task HoldAsync(string id, CancellationToken requestAborted)
    {
        _delivered.TrySetResult(id);
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
