using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Engine;

namespace PrequelBot.Chat.Slack;

/// <summary>
/// Slack Socket Mode (https://docs.slack.dev/apis/events-api/using-socket-mode): when <c>Slack:AppToken</c> is set, this
/// process dials out to Slack and needs no inbound HTTPS. It keeps <see cref="Connections"/> WebSockets open (each from
/// its own <c>apps.connections.open</c>), so a <c>disconnect</c> (<c>refresh_requested</c>, <c>warning</c>) on one
/// drops nothing while it is replaced; a broken connection is reopened with back-off, and <c>link_disabled</c> waits
/// the longest back-off before trying again. <c>slash_commands</c> and <c>interactive</c> envelopes go through
/// <see cref="SlackInboundHandler"/>, the path the HTTP endpoints take after parsing, and each <c>envelope_id</c> is
/// acknowledged within 3 s with the payload the HTTP endpoint would answer; duplicates are handled once
/// (<see cref="SlackEnvelopeDeduplicator"/>). See docs/slack-socket-mode.md.
/// </summary>
public sealed partial class SlackSocketMode(
    IOptionsMonitor<SlackOptions> options,
    SlackWebApiClient client,
    IServiceProvider services,
    SlackEnvelopeDeduplicator deduplicator,
    ILogger<SlackSocketMode> logger) : BackgroundService
{
    /// <summary>Connections held at once: one can be refreshed while the other receives.</summary>
    public const int Connections = 2;

    /// <summary>Largest message read from the socket; Slack's envelopes are a few KB.</summary>
    public const int MaxMessageBytes = 1024 * 1024;

    public static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private int _hellos;

    // Resolved only when Socket Mode is on: an app that only sends to Slack has no command handler to give it.
    private SlackInboundHandler? _inbound;

    /// <summary>How many <c>hello</c> messages this process has received (each opened connection says hello once).</summary>
    public int Hellos => Volatile.Read(ref _hellos);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.CurrentValue.UsesSocketMode) return;
        _inbound = services.GetRequiredService<SlackInboundHandler>();
        LogStarting(logger, Connections);
        var slots = Enumerable.Range(1, Connections).Select(slot => KeepConnectedAsync(slot, stoppingToken)).ToArray();
        await Task.WhenAll(slots);
    }

    /// <summary>One connection slot: open, receive until Slack or the network ends it, reopen.</summary>
    private async Task KeepConnectedAsync(int slot, CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                var end = await ConnectOnceAsync(slot, stopping);
                LogConnectionEnded(logger, slot, end);
                failures = end == ConnectionEnd.LinkDisabled ? failures : 0;
                wait = end switch
                {
                    ConnectionEnd.Refresh => TimeSpan.Zero,
                    ConnectionEnd.LinkDisabled => MaxBackoff,
                    _ => Backoff.Delay(1, InitialBackoff, MaxBackoff),
                };
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A lost connection is retried with back-off; it must never stop the host.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                failures++;
                wait = Backoff.Delay(failures, InitialBackoff, MaxBackoff);
                LogConnectionFailed(logger, slot, exception.GetType().Name, SafeMessage(exception), wait);
            }

            try
            {
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task<ConnectionEnd> ConnectOnceAsync(int slot, CancellationToken stopping)
    {
        var url = await client.OpenSocketModeConnectionAsync(stopping);
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        await socket.ConnectAsync(url, stopping);
        using var send = new SemaphoreSlim(1, 1);
        var inFlight = new List<Task>();
        var end = ConnectionEnd.Closed;
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var message = await ReceiveAsync(socket, stopping);
                if (message is null) break;
                JsonObject? json;
                try
                {
                    json = JsonNode.Parse(message) as JsonObject;
                }
                catch (JsonException)
                {
                    json = null;
                }

                if (json is null)
                {
                    LogUnreadable(logger, slot);
                    continue;
                }

                var type = (json["type"] as JsonValue)?.ToString();
                if (type == "hello")
                {
                    Interlocked.Increment(ref _hellos);
                    LogHello(logger, slot);
                    continue;
                }

                if (type == "disconnect")
                {
                    var reason = (json["reason"] as JsonValue)?.ToString() ?? "";
                    end = reason == "link_disabled" ? ConnectionEnd.LinkDisabled : ConnectionEnd.Refresh;
                    LogDisconnect(logger, slot, reason);
                    break;
                }

                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.Add(HandleEnvelopeAsync(slot, socket, send, json, type, stopping));
            }
        }
        finally
        {
            // Every envelope already received is acknowledged on this connection before it closes (within Slack's 3 s).
            await Task.WhenAll(inFlight);
            await CloseQuietlyAsync(socket);
        }

        return end;
    }

    private async Task HandleEnvelopeAsync(int slot, ClientWebSocket socket, SemaphoreSlim send, JsonObject envelope, string? type, CancellationToken stopping)
    {
        var envelopeId = (envelope["envelope_id"] as JsonValue)?.ToString();
        if (string.IsNullOrEmpty(envelopeId))
        {
            LogUnreadable(logger, slot);
            return;
        }

        try
        {
            var payload = envelope["payload"] as JsonObject;
            var answer = await deduplicator.HandleOnceAsync(envelopeId, () => DispatchAsync(type, payload, stopping), out var first);
            if (!first) LogDuplicate(logger, slot, envelopeId, type);
            if (answer.IsMalformed) LogMalformed(logger, envelopeId, type, answer.Problem!);

            var ack = new JsonObject { ["envelope_id"] = envelopeId };
            var acceptsPayload = envelope["accepts_response_payload"] is JsonValue accepts && accepts.TryGetValue<bool>(out var yes) && yes;
            if (answer.Payload is { Count: > 0 } body && acceptsPayload) ack["payload"] = body.DeepClone();
            var bytes = Encoding.UTF8.GetBytes(ack.ToJsonString());
            await send.WaitAsync(stopping);
            try
            {
                if (socket.State == WebSocketState.Open)
                    await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, stopping);
            }
            finally
            {
                send.Release();
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // One envelope's failure is logged; the connection keeps serving the others.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogEnvelopeFailed(logger, exception.GetType().Name, envelopeId, type);
        }
    }

    /// <summary>The shared inbound path, per envelope type; other types (events_api) are acknowledged and ignored.</summary>
    private Task<SlackAnswer> DispatchAsync(string? type, JsonObject? payload, CancellationToken stopping) => type switch
    {
        "slash_commands" when payload is not null => _inbound!.HandleCommandAsync(name => Field(payload, name), stopping),
        "interactive" when payload is not null => _inbound!.HandleInteractionAsync(payload.ToJsonString()),
        "slash_commands" or "interactive" => Task.FromResult(SlackAnswer.Malformed("The envelope has no payload object.")),
        _ => Task.FromResult(SlackAnswer.Empty),
    };

    /// <summary>A slash command field as the form field would read: a non-empty string, else null.</summary>
    private static string? Field(JsonObject payload, string name) =>
        payload[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;

    private static async Task<string?> ReceiveAsync(ClientWebSocket socket, CancellationToken stopping)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, stopping);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            if (message.Length + result.Count > MaxMessageBytes) throw new InvalidDataException("A Socket Mode message exceeded 1 MB.");
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return result.MessageType == WebSocketMessageType.Text ? Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length) : "";
            }
        }
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "reconnecting", timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Already gone: nothing to close.
        }
    }

    /// <summary>An exception's message without anything that could be the connection URL (it carries a ticket).</summary>
    private static string SafeMessage(Exception exception) => exception switch
    {
        SlackApiException api => api.Message,
        WebSocketException ws => ws.WebSocketErrorCode.ToString(),
        _ => exception.GetType().Name,
    };

    private enum ConnectionEnd
    {
        Closed,
        Refresh,
        LinkDisabled,
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode: holding {Connections} connections (Slack:AppToken is set)")]
    private static partial void LogStarting(ILogger logger, int connections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode connection {Slot}: hello")]
    private static partial void LogHello(ILogger logger, int slot);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode connection {Slot}: disconnect ({Reason})")]
    private static partial void LogDisconnect(ILogger logger, int slot, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode connection {Slot} ended ({End}); reconnecting")]
    private static partial void LogConnectionEnded(ILogger logger, int slot, ConnectionEnd end);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode connection {Slot} failed ({Error}: {Detail}); retrying in {Wait}")]
    private static partial void LogConnectionFailed(ILogger logger, int slot, string error, string detail, TimeSpan wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode connection {Slot}: unreadable message ignored")]
    private static partial void LogUnreadable(ILogger logger, int slot);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode connection {Slot}: envelope {EnvelopeId} ({Type}) delivered again; acknowledged with the first answer")]
    private static partial void LogDuplicate(ILogger logger, int slot, string envelopeId, string? type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode envelope {EnvelopeId} ({Type}) is malformed: {Problem}")]
    private static partial void LogMalformed(ILogger logger, string envelopeId, string? type, string problem);

    [LoggerMessage(Level = LogLevel.Error, Message = "Slack Socket Mode envelope {EnvelopeId} ({Type}) failed: {Error}")]
    private static partial void LogEnvelopeFailed(ILogger logger, string error, string envelopeId, string? type);
}
