using System.Collections.ObjectModel;
using System.Net;
using System.Xml.Linq;
using Amazon.Runtime;
using Amazon.Runtime.Credentials.Internal;
using Amazon.Runtime.Endpoints;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.Runtime.Internal.Transform;
using Amazon.Util.Internal;
using static Amazon.Runtime.Internal.Endpoints.StandardLibrary.Fn;

namespace PrequelBot.Aws.Rds;

// These types build on AWSSDK.Core's Amazon.Runtime.Internal* extension points, the way every generated
// AWSSDK 4 client does (AWSSDK.RDS is not available here). Core supplies credentials (default chain),
// SigV4, retries, clock-skew correction and endpoint plumbing; only the Query marshalling and XML parsing are ours.

/// <summary>Client configuration for Amazon RDS (service id "RDS", signing name "rds", API 2014-10-31).</summary>
public sealed class RdsClientConfig : ClientConfig
{
    private static readonly string UserAgentString = InternalSDKUtils.BuildUserAgentString("RDS", "1.0.0");

    public RdsClientConfig()
        : base(new DefaultConfigurationProvider(DefaultConfigurations()))
    {
        base.ServiceId = "RDS";
        AuthenticationServiceName = "rds";
        EndpointProvider = new RdsEndpointProvider();
    }

    public override string RegionEndpointServiceName => "rds";

    public override string ServiceVersion => "2014-10-31";

    public override string UserAgent => UserAgentString;

    /// <summary>Used by Core outside a request (e.g. presigning): the same rules as <see cref="RdsEndpointResolver"/>.</summary>
    public override Endpoint DetermineServiceOperationEndpoint(ServiceOperationEndpointParameters parameters) =>
        EndpointProvider.ResolveEndpoint(RdsEndpointResolver.Parameters(this));

    private static ReadOnlyCollection<IDefaultConfiguration> DefaultConfigurations()
    {
        static DefaultConfiguration Mode(DefaultConfigurationMode name, int connectMs) => new()
        {
            Name = name,
            RetryMode = RequestRetryMode.Standard,
            S3UsEast1RegionalEndpoint = S3UsEast1RegionalEndpointValue.Regional,
            ConnectTimeout = TimeSpan.FromMilliseconds(connectMs),
            TlsNegotiationTimeout = TimeSpan.FromMilliseconds(connectMs),
        };
        return new ReadOnlyCollection<IDefaultConfiguration>(
        [
            Mode(DefaultConfigurationMode.Standard, 3100),
            Mode(DefaultConfigurationMode.InRegion, 1100),
            Mode(DefaultConfigurationMode.CrossRegion, 3100),
            Mode(DefaultConfigurationMode.Mobile, 30000),
            Mode(DefaultConfigurationMode.Auto, 1100),
        ]);
    }
}

/// <summary><c>ServiceURL</c> when set; otherwise <c>https://rds[-fips].{region}.{dnsSuffix}</c> for the region's partition.</summary>
internal sealed class RdsEndpointProvider : IEndpointProvider
{
    public Endpoint ResolveEndpoint(EndpointParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters["Endpoint"] is string { Length: > 0 } endpoint)
        {
            return new Endpoint(endpoint);
        }
        var region = parameters["Region"] as string;
        if (string.IsNullOrEmpty(region))
        {
            throw new AmazonClientException("RDS: no AWS region is configured (set Aws:Region or AWS_REGION)");
        }
        var partition = Partition(region) ?? throw new AmazonClientException($"RDS: unknown region {region}");
        var dualStack = Equals(parameters["UseDualStack"], true);
        var fips = Equals(parameters["UseFIPS"], true);
        var suffix = (string)GetAttr(partition, dualStack ? "dualStackDnsSuffix" : "dnsSuffix");
        return new Endpoint($"https://rds{(fips ? "-fips" : "")}.{region}.{suffix}");
    }
}

/// <summary>Maps the client configuration into endpoint parameters (Region, FIPS, dual-stack, Endpoint).</summary>
internal sealed class RdsEndpointResolver : BaseEndpointResolver
{
    protected override EndpointParameters MapEndpointsParameters(IRequestContext requestContext) => Parameters(requestContext.ClientConfig);

    internal static EndpointParameters Parameters(IClientConfig config)
    {
        var parameters = new EndpointParameters();
        parameters["Region"] = config.RegionEndpoint?.SystemName ?? config.AuthenticationRegion;
        parameters["UseDualStack"] = config.UseDualstackEndpoint;
        parameters["UseFIPS"] = config.UseFIPSEndpoint;
        parameters["Endpoint"] = config.ServiceURL;
        return parameters;
    }
}

/// <summary>Every RDS operation signs with SigV4; Core resolves the identity through the default credential chain.</summary>
internal sealed class RdsAuthSchemeHandler : BaseAuthResolverHandler
{
    protected override List<IAuthSchemeOption> ResolveAuthOptions(IExecutionContext executionContext) => AuthSchemeOption.DEFAULT_SIGV4;
}

internal sealed class RdsServiceMetadata : IServiceMetadata
{
    public string ServiceId => "RDS";
    public IDictionary<string, string> OperationNameMapping { get; } = new Dictionary<string, string>();
}

/// <summary>One Query API call: the action and its parameters, in order.</summary>
public sealed class RdsQueryRequest(string action, IReadOnlyList<KeyValuePair<string, string>> parameters) : AmazonWebServiceRequest
{
    public string Action { get; } = action;
    public IReadOnlyList<KeyValuePair<string, string>> Parameters { get; } = parameters;
}

/// <summary>The <c>&lt;{Action}Result&gt;</c> element of a Query API answer.</summary>
public sealed class RdsQueryResponse : AmazonWebServiceResponse
{
    public XElement Result { get; init; } = new("Result");
}

/// <summary>Form-encodes <c>Action</c>, <c>Version=2014-10-31</c> and the parameters into a POST <c>IRequest</c>.</summary>
internal sealed class RdsQueryMarshaller : IMarshaller<IRequest, AmazonWebServiceRequest>
{
    public static readonly RdsQueryMarshaller Instance = new();

    public IRequest Marshall(AmazonWebServiceRequest input)
    {
        var query = (RdsQueryRequest)input;
        var request = new DefaultRequest(query, "Amazon.RDS") { HttpMethod = "POST" };
        request.Parameters.Add("Action", query.Action);
        request.Parameters.Add("Version", "2014-10-31");
        foreach (var (name, value) in query.Parameters)
        {
            request.Parameters.Add(name, value);
        }
        return request;
    }
}

/// <summary>Reads the result element and request id; turns error responses into <see cref="RdsServiceException"/>.</summary>
internal sealed class RdsQueryUnmarshaller(string action) : XmlResponseUnmarshaller
{
    public override AmazonWebServiceResponse Unmarshall(XmlUnmarshallerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var root = XElement.Load(context.Stream);
        var result = root.Elements().FirstOrDefault(e => e.Name.LocalName == action + "Result") ?? new XElement(action + "Result");
        var requestId = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "RequestId")?.Value;
        return new RdsQueryResponse { Result = result, ResponseMetadata = new ResponseMetadata { RequestId = requestId } };
    }

    public override AmazonServiceException UnmarshallException(XmlUnmarshallerContext context, Exception innerException, HttpStatusCode statusCode)
    {
        var error = XmlErrorResponseUnmarshaller.GetInstance().Unmarshall(context);
        return new RdsServiceException(
            error?.Message ?? $"RDS {action} failed with HTTP {(int)statusCode}", innerException,
            error?.Type ?? ErrorType.Unknown, error?.Code, error?.RequestId, statusCode);
    }
}

/// <summary>
/// A minimal Amazon RDS client on AWSSDK.Core's runtime pipeline: Query protocol, SigV4 (service <c>rds</c>),
/// the SDK's default credential chain, standard retries. Use one instance per region; thread-safe.
/// </summary>
public sealed class RdsQueryClient : AmazonServiceClient
{
    private static readonly IServiceMetadata Metadata = new RdsServiceMetadata();

    public RdsQueryClient(RdsClientConfig config) : base(config) { }

    /// <summary>For tests: explicit credentials instead of the default chain.</summary>
    public RdsQueryClient(AWSCredentials credentials, RdsClientConfig config) : base(credentials, config) { }

    protected override IServiceMetadata ServiceMetadata => Metadata;

    protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        pipeline.RemoveHandler<EndpointResolver>();
        pipeline.AddHandlerAfter<Marshaller>(new RdsEndpointResolver());
        pipeline.AddHandlerAfter<Marshaller>(new RdsAuthSchemeHandler());
    }

    /// <summary>Sends one Query API action and returns its <c>&lt;{Action}Result&gt;</c> element.</summary>
    /// <exception cref="RdsServiceException">AWS answered an error (code and message preserved).</exception>
    public async Task<XElement> InvokeActionAsync(string action, IReadOnlyList<KeyValuePair<string, string>> parameters, CancellationToken cancellationToken)
    {
        var options = new InvokeOptions
        {
            RequestMarshaller = RdsQueryMarshaller.Instance,
            ResponseUnmarshaller = new RdsQueryUnmarshaller(action),
        };
        ObjectDisposedException.ThrowIf(RuntimePipeline is null, this);
        var response = await InvokeAsync<RdsQueryResponse>(new RdsQueryRequest(action, parameters), options, cancellationToken).ConfigureAwait(false);
        return response.Result;
    }
}
