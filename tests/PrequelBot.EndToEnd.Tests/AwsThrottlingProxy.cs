using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// A loopback HTTP proxy in front of moto, set as the host's <c>Aws__ServiceUrl</c>: every <see cref="Every"/>-th AWS
/// Query call (RDS and EC2 share the URL; the form's <c>Version</c> tells them apart) is answered with AWS's own
/// throttling error and not forwarded; every other request goes to moto unchanged. RDS:
/// HTTP 400 <c>&lt;ErrorResponse&gt;&lt;Error&gt;&lt;Code&gt;Throttling&lt;/Code&gt;…</c>; EC2: HTTP 503
/// <c>&lt;Response&gt;&lt;Errors&gt;&lt;Error&gt;&lt;Code&gt;RequestLimitExceeded&lt;/Code&gt;…</c> (aws.md §errors).
/// With <c>every: int.MaxValue</c> it only counts (<see cref="Forwarded"/>), and <see cref="Hold"/> keeps calls waiting.
/// </summary>
public sealed class AwsThrottlingProxy : IAsyncDisposable
{
    /// <summary>The API version of RDS Query requests (EC2's is 2016-11-15).</summary>
    private const string RdsVersion = "2014-10-31";

    private readonly Uri _moto;
    private readonly HttpClient _forward = new() { Timeout = TimeSpan.FromSeconds(100) };
    private WebApplication? _app;
    private int _calls;
    private volatile Func<string, bool>? _hold;
    private TaskCompletionSource _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AwsThrottlingProxy(Uri moto, int every)
    {
        _moto = moto;
        Every = every;
    }

    /// <summary>Every n-th call is throttled.</summary>
    public int Every { get; }

    /// <summary><c>http://127.0.0.1:{port}</c>: the host's <c>Aws__ServiceUrl</c>.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The actions that were forwarded to moto, in order.</summary>
    public ConcurrentQueue<string> Forwarded { get; } = new();

    /// <summary>The actions that were answered with a throttling error instead (<c>Rds:ModifyDBInstance</c>, <c>Ec2:…</c>).</summary>
    public ConcurrentQueue<string> Throttled { get; } = new();

    /// <summary>
    /// From now on, holds every call whose action (<c>Rds:DescribeDBInstances</c>, <c>Ec2:…</c>) matches
    /// <paramref name="which"/> before forwarding it, until <see cref="ReleaseHeld"/> (or the caller hangs up, e.g. it was
    /// killed); <see cref="Holding"/> completes when the first is held.
    /// </summary>
    public void Hold(Func<string, bool> which)
    {
        _holding = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _hold = which;
    }

    /// <summary>Completes when a call is held (after <see cref="Hold"/>).</summary>
    public Task Holding => _holding.Task;

    /// <summary>Forwards the held calls and holds no more.</summary>
    public void ReleaseHeld()
    {
        _hold = null;
        _release.TrySetResult();
    }

    public static async Task<AwsThrottlingProxy> StartAsync(string motoUrl, int every)
    {
        var proxy = new AwsThrottlingProxy(new Uri(motoUrl), every);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        proxy._app = builder.Build();
        proxy._app.Run(proxy.HandleAsync);
        await proxy._app.StartAsync();
        proxy.Url = proxy._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        var action = form.TryGetValue("Action", out var a) ? a.ToString() : context.Request.Path.ToString();
        var service = form.TryGetValue("Version", out var v) && v == RdsVersion ? "Rds" : "Ec2";

        if (form.ContainsKey("Action") && Interlocked.Increment(ref _calls) % Every == 0)
        {
            Throttled.Enqueue($"{service}:{action}");
            var requestId = Guid.NewGuid().ToString();
            context.Response.ContentType = "text/xml";
            if (service == "Rds")
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync(
                    $"""<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>{requestId}</RequestId></ErrorResponse>""");
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                await context.Response.WriteAsync(
                    $"""<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>{requestId}</RequestID></Response>""");
            }

            return;
        }

        if (_hold is { } hold && hold($"{service}:{action}"))
        {
            var release = _release.Task;
            _holding.TrySetResult();
            try
            {
                await release.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return; // the caller is gone
            }
        }

        Forwarded.Enqueue($"{service}:{action}");
        using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), new Uri(_moto, context.Request.Path + context.Request.QueryString))
        {
            Content = new ByteArrayContent(body),
        };
        foreach (var (name, values) in context.Request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) continue;
            if (!forward.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values)) forward.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
        }

        using var answer = await _forward.SendAsync(forward, context.RequestAborted);
        context.Response.StatusCode = (int)answer.StatusCode;
        if (answer.Content.Headers.ContentType is { } contentType) context.Response.ContentType = contentType.ToString();
        await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        _forward.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }
}
