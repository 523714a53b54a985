using System.Collections.Specialized;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace PrequelBot.Aws.Tests.Rds;

/// <summary>
/// Recomputes an AWS Signature Version 4 independently of the SDK: canonical request → string to sign →
/// HMAC chain (AWS4+secret → date → region → service → aws4_request) → constant-time compare.
/// </summary>
internal static partial class SigV4Verifier
{
    public sealed record Scope(string AccessKey, string Date, string Region, string Service);

    public static Scope Verify(string method, string path, string query, NameValueCollection headers, byte[] body, string secretKey)
    {
        var authorization = headers["Authorization"] ?? throw new InvalidOperationException("no Authorization header");
        var match = AuthorizationHeader().Match(authorization);
        if (!match.Success)
        {
            throw new InvalidOperationException($"not a SigV4 Authorization header: {authorization}");
        }
        var scope = new Scope(match.Groups["key"].Value, match.Groups["date"].Value, match.Groups["region"].Value, match.Groups["service"].Value);
        var signedHeaders = match.Groups["signed"].Value.Split(';');
        var amzDate = headers["X-Amz-Date"] ?? throw new InvalidOperationException("no X-Amz-Date header");
        var payloadHash = Hex(SHA256.HashData(body));
        if (headers["X-Amz-Content-SHA256"] is { } declared && declared != payloadHash)
        {
            throw new InvalidOperationException("x-amz-content-sha256 does not match the body");
        }
        var canonicalHeaders = string.Concat(signedHeaders.Select(h => $"{h}:{string.Join(',', (headers.GetValues(h) ?? []).Select(v => Spaces().Replace(v.Trim(), " ")))}\n"));
        var canonicalRequest = string.Join('\n', method, path, query, canonicalHeaders, string.Join(';', signedHeaders), payloadHash);
        var credentialScope = $"{scope.Date}/{scope.Region}/{scope.Service}/aws4_request";
        var stringToSign = string.Join('\n', "AWS4-HMAC-SHA256", amzDate, credentialScope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secretKey), scope.Date);
        key = Hmac(key, scope.Region);
        key = Hmac(key, scope.Service);
        key = Hmac(key, "aws4_request");
        var expected = Encoding.ASCII.GetBytes(Hex(Hmac(key, stringToSign)));
        var actual = Encoding.ASCII.GetBytes(match.Groups["signature"].Value);
        if (!CryptographicOperations.FixedTimeEquals(expected, actual))
        {
            throw new InvalidOperationException("SigV4 signature does not match");
        }
        return scope;
    }

    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/]+)/(?<date>\d{8})/(?<region>[^/]+)/(?<service>[^/]+)/aws4_request,\s*SignedHeaders=(?<signed>[^,]+),\s*Signature=(?<signature>[0-9a-f]{64})$")]
    private static partial Regex AuthorizationHeader();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
