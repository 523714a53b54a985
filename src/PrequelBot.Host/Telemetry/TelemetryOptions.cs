namespace PrequelBot.Host.Telemetry;

/// <summary>
/// Section <c>Telemetry</c> (docs/operations.md). OTLP export itself follows the standard <c>OTEL_EXPORTER_OTLP_*</c>
/// variables: metrics and traces are exported when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>Serve <c>GET /metrics</c> in Prometheus text format, with the dashboard's access rule. Default off.</summary>
    public bool PrometheusEndpoint { get; set; }

    /// <summary>
    /// This process's name in traces (<c>service.instance.id</c>, the <c>prequelbot.node</c> attribute) and in its
    /// Hangfire server names. Default: the machine name. Letters, digits, <c>.</c>, <c>_</c> and <c>-</c>, at most 63.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary><see cref="NodeName"/> or the machine name.</summary>
    public string EffectiveNodeName => string.IsNullOrWhiteSpace(NodeName) ? Environment.MachineName : NodeName.Trim();
}
