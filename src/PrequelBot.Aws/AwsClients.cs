using Amazon;
using Amazon.EC2;
using Amazon.Runtime;
using Microsoft.Extensions.Options;
using PrequelBot.Aws.Rds;
using PrequelBot.Workflows.Ports;
using PrequelBot.Workflows.Telemetry;

namespace PrequelBot.Aws;

/// <summary>
/// The region and endpoint the AWS steps use, resolved once: <c>Aws:Region</c>, else the SDK default chain.
/// </summary>
public sealed class AwsEndpoint
{
    public AwsEndpoint(IOptions<AwsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        ServiceUrl = string.IsNullOrWhiteSpace(value.ServiceUrl) ? null : value.ServiceUrl.Trim();
        Region = string.IsNullOrWhiteSpace(value.Region) ? DefaultChainRegion() : value.Region.Trim();
    }

    /// <summary>Null when neither <c>Aws:Region</c> nor the SDK default chain names a region.</summary>
    public string? Region { get; }

    public string? ServiceUrl { get; }

    public bool IsConfigured => Region is not null;

    /// <summary>Sets the endpoint on a client config: <c>ServiceURL</c> + <c>AuthenticationRegion</c>, or <c>RegionEndpoint</c> (never both).</summary>
    public T Configure<T>(T config) where T : ClientConfig
    {
        ArgumentNullException.ThrowIfNull(config);
        var region = Region ?? throw new InvalidOperationException("AWS is not configured: set Aws:Region or AWS_REGION");
        if (ServiceUrl is not null)
        {
            config.ServiceURL = ServiceUrl;
            config.AuthenticationRegion = region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        return config;
    }

    private static string? DefaultChainRegion()
    {
        try
        {
            return FallbackRegionFactory.GetRegionEndpoint()?.SystemName;
        }
        catch (AmazonClientException)
        {
            return null;
        }
    }
}

/// <summary>
/// The RDS and EC2 clients, created on first use (so the host starts without AWS settings). Singletons; thread-safe.
/// </summary>
public sealed class AwsClients : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    // Not Lazy<IAmazonEC2>: a generic instance over the EC2 interface in the constructor would load that interface
    // (over a thousand methods) into every process at start-up, AWS configured or not (bench/README.md, "Idle cost").
    private IRdsClient? _rds;
    private IAmazonEC2? _ec2;
    private object? _rdsLock;
    private object? _ec2Lock;

    public AwsClients(AwsEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
    }

    /// <summary>
    /// For tests: given clients. Internal so the container sees one public constructor: it inspects the parameters of
    /// every public one, and this one's <see cref="IAmazonEC2"/> would load the EC2 SDK at start-up.
    /// </summary>
    internal AwsClients(AwsEndpoint endpoint, IRdsClient rds, IAmazonEC2 ec2)
    {
        Endpoint = endpoint;
        _rds = rds;
        _ec2 = ec2;
    }

    public AwsEndpoint Endpoint { get; }

    public string Region => Endpoint.Region ?? throw new StepFailedException("AWS is not configured: set Aws:Region (or AWS_REGION) and credentials through the AWS default chain");

    public IRdsClient Rds => Endpoint.IsConfigured
        ? LazyInitializer.EnsureInitialized(ref _rds, ref _rdsLock, CreateRds)
        : throw new StepFailedException("AWS is not configured: set Aws:Region (or AWS_REGION)");

    public IAmazonEC2 Ec2 => Endpoint.IsConfigured
        ? LazyInitializer.EnsureInitialized(ref _ec2, ref _ec2Lock, CreateEc2)
        : throw new StepFailedException("AWS is not configured: set Aws:Region (or AWS_REGION)");

    private IRdsClient CreateRds()
    {
        var client = new RdsQueryClient(Endpoint.Configure(new RdsClientConfig { HttpClientFactory = new MeteredAwsHttpClientFactory(PrequelBotTelemetry.Dependencies.Rds) }));
        lock (_owned) { _owned.Add(client); }
        return new RdsClient(client);
    }

    private IAmazonEC2 CreateEc2()
    {
        var client = new AmazonEC2Client(Endpoint.Configure(new AmazonEC2Config { HttpClientFactory = new MeteredAwsHttpClientFactory(PrequelBotTelemetry.Dependencies.Ec2) }));
        lock (_owned) { _owned.Add(client); }
        return client;
    }

    public void Dispose()
    {
        lock (_owned)
        {
            foreach (var client in _owned)
            {
                client.Dispose();
            }
            _owned.Clear();
        }
    }
}

/// <summary>"AWS": configured when a region is resolvable; the detail names the region and any endpoint override (never credentials).</summary>
internal sealed class AwsIntegrationStatus(AwsEndpoint endpoint) : IIntegrationStatus
{
    public string Name => "AWS";

    public bool IsConfigured => endpoint.IsConfigured;

    public string Detail => endpoint.Region is null
        ? "no region (set Aws:Region or AWS_REGION); credentials come from the AWS default chain"
        : endpoint.ServiceUrl is null
            ? $"region {endpoint.Region}, AWS public endpoints"
            : $"region {endpoint.Region}, endpoint override {endpoint.ServiceUrl}";
}
