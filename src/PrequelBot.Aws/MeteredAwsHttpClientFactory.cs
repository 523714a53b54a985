using Amazon.Runtime;
using PrequelBot.Workflows.Telemetry;

namespace PrequelBot.Aws;

/// <summary>
/// The HttpClient under an AWS SDK client, with <see cref="DependencyMetricsHandler"/> in front so each RDS or EC2 call
/// counts in <c>prequelbot.dependency.calls</c>/<c>.duration</c> (docs/operations.md). The SDK caches the client per
/// config as it does with its own factory; its retries show as separate calls.
/// </summary>
internal sealed class MeteredAwsHttpClientFactory(string dependency) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig)
    {
        ArgumentNullException.ThrowIfNull(clientConfig);
#pragma warning disable CA2000 // The handler chain is owned by the HttpClient, which the SDK owns and disposes.
        var handler = new DependencyMetricsHandler(dependency)
        {
            InnerHandler = new SocketsHttpHandler
            {
                AutomaticDecompression = System.Net.DecompressionMethods.None,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                MaxConnectionsPerServer = clientConfig.MaxConnectionsPerServer ?? int.MaxValue,
            },
        };
        var client = new HttpClient(handler, disposeHandler: true);
#pragma warning restore CA2000
        if (clientConfig.Timeout is { } timeout) client.Timeout = timeout;
        return client;
    }
}
