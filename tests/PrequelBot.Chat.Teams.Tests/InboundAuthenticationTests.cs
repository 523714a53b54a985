using System.Net;
using Microsoft.IdentityModel.Tokens;
using PrequelBot.Chat.Teams.Tests.Fakes;

namespace PrequelBot.Chat.Teams.Tests;

public sealed class InboundAuthenticationTests : IAsyncLifetime
{
    private BotHost _bot = null!;

    public async Task InitializeAsync() => _bot = await BotHost.StartAsync();

    public async Task DisposeAsync() => await _bot.DisposeAsync();

    public enum BadToken
    {
        None, BasicScheme, WrongAudience, WrongIssuer, Expired, NotYetValid, UnknownKid, KnownKidDifferentKey,
        Hs256, AlgNone, TamperedPayload, MissingServiceUrlClaim, DifferentServiceUrlClaim, Garbage,
    }

    private string? Mint(BadToken kind)
    {
        var serviceUrl = _bot.Connector.ServiceUrl;
        var a = _bot.Authority;
        var other = FakeBotFrameworkAuthority.StrangerKey;
        return kind switch
        {
            BadToken.None => null,
            BadToken.BasicScheme => a.MintToken(serviceUrl),
            BadToken.WrongAudience => a.MintToken(serviceUrl, audience: "99999999-2222-3333-4444-555555555555"),
            BadToken.WrongIssuer => a.MintToken(serviceUrl, issuer: "https://evil.example.com"),
            BadToken.Expired => a.MintToken(serviceUrl, notBefore: DateTime.UtcNow.AddMinutes(-30), expires: DateTime.UtcNow.AddMinutes(-6)),
            BadToken.NotYetValid => a.MintToken(serviceUrl, notBefore: DateTime.UtcNow.AddMinutes(10), expires: DateTime.UtcNow.AddMinutes(40)),
            BadToken.UnknownKid => a.MintToken(serviceUrl, kid: "no-such-key", signWith: other),
            BadToken.KnownKidDifferentKey => a.MintToken(serviceUrl, signWith: other),
            BadToken.Hs256 => FakeBotFrameworkAuthority.MintHs256Token(serviceUrl),
            BadToken.AlgNone => FakeBotFrameworkAuthority.MintUnsignedToken(serviceUrl),
            BadToken.TamperedPayload => Tamper(a.MintToken(serviceUrl)),
            BadToken.MissingServiceUrlClaim => a.MintToken(serviceUrl, includeServiceUrl: false),
            BadToken.DifferentServiceUrlClaim => a.MintToken("https://smba.trafficmanager.net/amer/"),
            BadToken.Garbage => "not.a.jwt",
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>Changes the payload after signing (adds a claim), keeping header and signature.</summary>
    private static string Tamper(string jwt)
    {
        var parts = jwt.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]);
        parts[1] = Base64UrlEncoder.Encode(payload[..^1] + ",\"roles\":\"admin\"}");
        return string.Join('.', parts);
    }

    [Theory]
    [InlineData(BadToken.None)]
    [InlineData(BadToken.BasicScheme)]
    [InlineData(BadToken.WrongAudience)]
    [InlineData(BadToken.WrongIssuer)]
    [InlineData(BadToken.Expired)]
    [InlineData(BadToken.NotYetValid)]
    [InlineData(BadToken.UnknownKid)]
    [InlineData(BadToken.KnownKidDifferentKey)]
    [InlineData(BadToken.Hs256)]
    [InlineData(BadToken.AlgNone)]
    [InlineData(BadToken.TamperedPayload)]
    [InlineData(BadToken.MissingServiceUrlClaim)]
    [InlineData(BadToken.DifferentServiceUrlClaim)]
    [InlineData(BadToken.Garbage)]
    public async Task Bad_token_is_rejected_with_401_and_nothing_happens(BadToken kind)
    {
        var token = Mint(kind);

        using var response = await _bot.PostRawAsync(_bot.Activity(text: "<at>PrequelBot</at> status").ToJsonString(), token,
            scheme: kind == BadToken.BasicScheme ? "Basic" : "Bearer");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await Task.Delay(200);
        Assert.Empty(_bot.Commands.Requests);
        Assert.Empty(_bot.Connector.Calls);
    }

    [Theory]
    [InlineData(FakeBotFrameworkAuthority.WebchatKey)]
    [InlineData(FakeBotFrameworkAuthority.UnendorsedKey)]
    public async Task Key_not_endorsed_for_the_channel_is_rejected_with_403(string kid)
    {
        var token = _bot.Authority.MintToken(_bot.Connector.ServiceUrl, kid: kid);

        using var response = await _bot.PostAsync(_bot.Activity(text: "status"), token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await Task.Delay(200);
        Assert.Empty(_bot.Commands.Requests);
        Assert.Empty(_bot.Connector.Calls);
    }

    [Fact]
    public async Task Unreachable_signing_keys_fail_closed_with_503()
    {
        var token = _bot.ValidToken();
        await _bot.Authority.DisposeAsync();

        using var response = await _bot.PostAsync(_bot.Activity(text: "status"), token);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(_bot.Commands.Requests);
    }

    [Fact]
    public async Task Token_expired_within_the_five_minute_skew_is_accepted()
    {
        var token = _bot.Authority.MintToken(_bot.Connector.ServiceUrl, notBefore: DateTime.UtcNow.AddMinutes(-30), expires: DateTime.UtcNow.AddMinutes(-4));

        using var response = await _bot.PostAsync(_bot.Activity(text: "status"), token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Key_published_after_start_is_picked_up_on_its_first_token()
    {
        using var first = await _bot.PostAsync(_bot.Activity(type: "typing"), _bot.ValidToken());
        _bot.Authority.RotateIn("test-key-4", "msteams");
        var token = _bot.Authority.MintToken(_bot.Connector.ServiceUrl, kid: "test-key-4");

        using var response = await _bot.PostAsync(_bot.Activity(type: "typing"), token);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Activity_claiming_another_service_url_than_the_token_is_rejected_with_401()
    {
        var token = _bot.ValidToken();

        using var response = await _bot.PostAsync(_bot.Activity(text: "status", serviceUrl: "https://attacker.example.com/"), token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await Task.Delay(200);
        Assert.Empty(_bot.Commands.Requests);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"id\":\"1\"}")]
    [InlineData("null")]
    [InlineData("{\"type\":\"message\",\"text\":5}")]
    public async Task Malformed_activity_with_a_valid_token_is_rejected_with_400(string body)
    {
        using var response = await _bot.PostRawAsync(body, _bot.ValidToken());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(_bot.Commands.Requests);
    }

    [Fact]
    public async Task Malformed_body_without_a_token_is_rejected_with_401_before_parsing()
    {
        using var response = await _bot.PostRawAsync("{not json", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}

public sealed class DevelopmentModeTests
{
    [Fact]
    public async Task Empty_app_id_outside_development_rejects_unauthenticated_activities()
    {
        await using var bot = await BotHost.StartAsync(appId: null, environment: "Production");

        using var response = await bot.PostAsync(bot.Activity(text: "status"), token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Empty_app_id_in_development_accepts_unauthenticated_activities_and_replies_without_a_token()
    {
        await using var bot = await BotHost.StartAsync(appId: null, environment: "Development");
        bot.Connector.ExpectedToken = null;

        using var response = await bot.PostAsync(bot.Activity(text: "status"), token: null);
        var calls = await bot.Connector.WaitForDeliveriesAsync(1);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(calls);
        Assert.Equal("", calls[0].Authorization);
        Assert.Equal(0, bot.Authority.TokenRequests);
    }
}
