using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace PrequelBot.Chat.Teams.Tests.Fakes;

/// <summary>
/// A local stand-in for login.botframework.com and the Microsoft token endpoint, on 127.0.0.1: OpenID metadata, a JWKS
/// whose keys carry <c>endorsements</c> (test-key-1: msteams, test-key-2: webchat, test-key-3: none), a client-credentials
/// token endpoint that counts its calls, and a minter of channel tokens. Point <c>Teams:OpenIdMetadataUrl</c> at
/// <see cref="MetadataUrl"/> and <c>Teams:TokenEndpoint</c> at <see cref="TokenEndpoint"/>.
/// </summary>
public sealed class FakeBotFrameworkAuthority : IAsyncDisposable
{
    public const string AppId = "11111111-2222-3333-4444-555555555555";
    public const string AppPassword = "s3cret+&=pass";
    public const string Issuer = "https://api.botframework.com";
    public const string OutboundToken = "fake-outbound";
    public const string EndorsedKey = "test-key-1";
    public const string WebchatKey = "test-key-2";
    public const string UnendorsedKey = "test-key-3";

    // RSA key generation is slow on a busy machine: one set of keys per test run, shared by every authority.
    private static readonly Lazy<Dictionary<string, RSA>> SharedKeys = new(() => new()
    {
        [EndorsedKey] = RSA.Create(2048),
        [WebchatKey] = RSA.Create(2048),
        [UnendorsedKey] = RSA.Create(2048),
    });
    private static readonly Lazy<RSA> SharedStrangerKey = new(() => RSA.Create(2048));
    private readonly Dictionary<string, RSA> _keys = new(SharedKeys.Value);
    private readonly Dictionary<string, string[]> _endorsements = new()
    {
        [EndorsedKey] = ["msteams"],
        [WebchatKey] = ["webchat"],
    };

    /// <summary>An RSA key that is not in the JWKS.</summary>
    public static RSA StrangerKey => SharedStrangerKey.Value;
    private WebApplication? _app;
    private int _tokenRequests;

    public string BaseUrl { get; private set; } = "";
    public string MetadataUrl => BaseUrl + "v1/.well-known/openidconfiguration";
    public string TokenEndpoint => BaseUrl + "botframework.com/oauth2/v2.0/token";

    /// <summary>How many client-credentials tokens were issued.</summary>
    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    /// <summary>Token requests whose form did not match the spec (wrong grant, id, secret or scope).</summary>
    public int BadTokenRequests { get; private set; }

    public static async Task<FakeBotFrameworkAuthority> StartAsync()
    {
        var authority = new FakeBotFrameworkAuthority();
        (authority._app, authority.BaseUrl) = await LoopbackServer.StartAsync(authority.Map);
        return authority;
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/v1/.well-known/openidconfiguration", () => Results.Json(new JsonObject
        {
            ["issuer"] = Issuer,
            ["authorization_endpoint"] = "https://invalid.botframework.com",
            ["jwks_uri"] = BaseUrl + "v1/.well-known/keys",
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["token_endpoint_auth_methods_supported"] = new JsonArray("private_key_jwt"),
        }));
        app.MapGet("/v1/.well-known/keys", () =>
        {
            var keys = new JsonArray();
            lock (_keys)
            foreach (var (kid, rsa) in _keys)
            {
                var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)));
                var key = new JsonObject { ["kty"] = "RSA", ["use"] = "sig", ["kid"] = kid, ["n"] = jwk.N, ["e"] = jwk.E };
                if (_endorsements.TryGetValue(kid, out var channels))
                    key["endorsements"] = new JsonArray([.. channels.Select(c => (JsonNode)c)]);
                keys.Add(key);
            }
            return Results.Json(new JsonObject { ["keys"] = keys });
        });
        app.MapPost("/{tenant}/oauth2/v2.0/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            if (form["grant_type"] != "client_credentials" || form["client_id"] != AppId ||
                form["client_secret"] != AppPassword || form["scope"] != "https://api.botframework.com/.default")
            {
                BadTokenRequests++;
                return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            }
            Interlocked.Increment(ref _tokenRequests);
            return Results.Json(new { token_type = "Bearer", expires_in = 3600, ext_expires_in = 3600, access_token = OutboundToken });
        });
    }

    /// <summary>Publishes <see cref="StrangerKey"/> under <paramref name="kid"/> (key rotation): tokens signed with it validate once the bot refreshes its keys.</summary>
    public void RotateIn(string kid, params string[] endorsements)
    {
        lock (_keys)
        {
            _keys[kid] = StrangerKey;
            _endorsements[kid] = endorsements;
        }
    }

    /// <summary>Mints a channel→bot token; every part can be made wrong for negative tests.</summary>
    public string MintToken(string serviceUrl, string? audience = AppId, string issuer = Issuer, string kid = EndorsedKey,
        DateTime? notBefore = null, DateTime? expires = null, RSA? signWith = null, bool includeServiceUrl = true)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object>();
        if (includeServiceUrl) claims["serviceurl"] = serviceUrl;
        var nbf = notBefore ?? now.AddMinutes(-1);
        var exp = expires ?? now.AddMinutes(30);
        RSA key;
        lock (_keys) key = signWith ?? _keys[kid];
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            NotBefore = nbf,
            IssuedAt = nbf < exp ? nbf : exp.AddMinutes(-1),
            Expires = exp,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(key) { KeyId = kid }, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>A token signed with HMAC-SHA256 (a shared secret), which the bot must refuse.</summary>
    public static string MintHs256Token(string serviceUrl) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = AppId,
            Expires = DateTime.UtcNow.AddMinutes(30),
            Claims = new Dictionary<string, object> { ["serviceurl"] = serviceUrl },
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes("a-shared-secret-of-at-least-32-bytes!!")) { KeyId = EndorsedKey },
                SecurityAlgorithms.HmacSha256),
        });

    /// <summary>An unsigned token (<c>alg: none</c>).</summary>
    public static string MintUnsignedToken(string serviceUrl) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = AppId,
            Expires = DateTime.UtcNow.AddMinutes(30),
            Claims = new Dictionary<string, object> { ["serviceurl"] = serviceUrl },
        });

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        _app = null;
    }
}
