using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace PrequelBot.Prequel.Tests;

/// <summary>One scripted answer for the next request of <see cref="Method"/>. <see cref="CommitFirst"/>: a POST creates the source, then fails anyway.</summary>
public sealed record ScriptedResponse(string Method, int Status, string? Message = null, int? RetryAfterSeconds = null, bool CommitFirst = false);

/// <summary>A source the fake holds, with the body it was created from (including the password).</summary>
public sealed record FakeSource(string Id, string Name, JsonObject Body);

/// <summary>
/// Prequel's source API on 127.0.0.1 with sources in memory: checks X-API-KEY and X-Prequel-Api-Version, validates
/// the body shape of that version, pages lists with has_next/next_url, and plays scripted failures.
/// </summary>
public sealed class FakePrequelApi : IAsyncDisposable
{
    public const string ProductionKey = "sk_prod_fake_key_0123456789";
    public const string StagingKey = "sk_staging_fake_key_0123456789";

    private readonly WebApplication _app;
    private int _nextId = 100;

    private FakePrequelApi(WebApplication app, string apiVersion, int pageSize)
    {
        _app = app;
        ApiVersion = apiVersion;
        PageSize = pageSize;
    }

    public string ApiVersion { get; }
    public int PageSize { get; }
    public string[] AcceptedKeys { get; set; } = [ProductionKey, StagingKey];
    public List<FakeSource> Sources { get; } = [];
    public List<JsonObject> PostedBodies { get; } = [];
    /// <summary>Every PATCH body, with the id it was sent to.</summary>
    public List<(string Id, JsonObject Body)> PatchedBodies { get; } = [];
    public ConcurrentQueue<ScriptedResponse> Script { get; } = new();
    private int _gets;
    private int _posts;
    private int _deletes;
    private int _patches;
    public int Gets => _gets;
    public int Posts => _posts;
    /// <summary>Every DELETE request, also those answered 404 or with a scripted failure.</summary>
    public int Deletes => _deletes;
    /// <summary>Every PATCH request, also those refused (<see cref="PatchedBodies"/> holds the applied ones).</summary>
    public int Patches => _patches;
    /// <summary>The ids whose DELETE removed a source, in order (a repeated DELETE of a removed id answers 404 and is not here).</summary>
    public List<string> DeletedIds { get; } = [];
    /// <summary>When set, every list page answers with this next_url and has_next = true.</summary>
    public string? NextUrlOverride { get; set; }
    public Uri BaseUrl { get; private set; } = null!;

    public static async Task<FakePrequelApi> StartAsync(string apiVersion = "2023-12-01", int pageSize = 10)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var fake = new FakePrequelApi(app, apiVersion, pageSize);
        app.MapGet("/sources", fake.ListAsync);
        app.MapPost("/sources", (Delegate)fake.CreateAsync);
        app.MapDelete("/sources/{id}", (Delegate)fake.Delete);
        app.MapPatch("/sources/{id}", (Delegate)fake.PatchAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = new Uri(address);
        return fake;
    }

    /// <summary>Adds a source as if created earlier.</summary>
    public FakeSource Seed(string name)
    {
        lock (Sources)
        {
            var source = new FakeSource($"src_{_nextId++}", name, new JsonObject());
            Sources.Add(source);
            return source;
        }
    }

    /// <summary>The password of the one POSTed body, in either shape.</summary>
    public string? PostedPassword(int index = 0) =>
        (PostedBodies[index]["source"]?["postgres"]?["password_auth"]?["password"] ?? PostedBodies[index]["source"]?["password"])?.GetValue<string>();

    private IResult? Check(HttpContext http, string method)
    {
        if (!AcceptedKeys.Contains(http.Request.Headers["X-API-KEY"].ToString()))
        {
            return Error(401, "Invalid API key");
        }
        if (http.Request.Headers["X-Prequel-Api-Version"].ToString() != ApiVersion)
        {
            return Error(400, $"Expected X-Prequel-Api-Version {ApiVersion}");
        }
        if (Script.TryPeek(out var next) && next.Method == method && !next.CommitFirst && Script.TryDequeue(out var scripted))
        {
            if (scripted.RetryAfterSeconds is { } seconds)
            {
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
            return Error(scripted.Status, scripted.Message ?? "scripted failure");
        }
        return null;
    }

    /// <summary>A source as the list shows it: the created fields without the password.</summary>
    private JsonObject Listed(FakeSource source)
    {
        JsonObject item;
        lock (Sources) // PATCH changes stored bodies under this lock
        {
            item = source.Body["source"]?.DeepClone() as JsonObject ?? [];
        }
        (item["postgres"]?["password_auth"] as JsonObject)?.Remove("password");
        item.Remove("password");
        item["id"] = source.Id;
        item["name"] = source.Name;
        item["is_reachable"] = true;
        return item;
    }

    private IResult ListAsync(HttpContext http)
    {
        Interlocked.Increment(ref _gets);
        if (Check(http, "GET") is { } failure)
        {
            return failure;
        }
        var page = int.TryParse(http.Request.Query["page"], out var p) ? p : 1;
        List<FakeSource> all;
        lock (Sources)
        {
            all = [.. Sources];
        }
        var items = all.Skip((page - 1) * PageSize).Take(PageSize).Select(Listed);
        var hasNext = NextUrlOverride is not null || page * PageSize < all.Count;
        return Results.Json(new
        {
            status = "success",
            data = new { sources = items },
            has_next = hasNext,
            next_url = NextUrlOverride ?? (hasNext ? $"/sources?page={page + 1}" : null),
            message = (string?)null,
        });
    }

    private async Task<IResult> CreateAsync(HttpContext http)
    {
        Interlocked.Increment(ref _posts);
        var commitThenFail = Script.TryPeek(out var next) && next.Method == "POST" && next.CommitFirst;
        if (Check(http, "POST") is { } failure)
        {
            return failure;
        }
        var body = await JsonNode.ParseAsync(http.Request.Body) as JsonObject;
        var source = body?["source"] as JsonObject;
        var shapeOk = ApiVersion == "2023-12-01"
            ? source?["postgres"]?["password_auth"]?["password"] is not null && source["postgres"]?["host"] is not null && source["host"] is null
            : source?["password"] is not null && source["host"] is not null && source["postgres"] is null;
        if (body is null || source?["name"] is null || !shapeOk)
        {
            return Error(400, $"Invalid source body for API version {ApiVersion}");
        }
        FakeSource created;
        lock (Sources)
        {
            PostedBodies.Add(body);
            created = new FakeSource($"src_{_nextId++}", source["name"]!.GetValue<string>(), body);
            Sources.Add(created);
        }
        if (commitThenFail && Script.TryDequeue(out var scripted))
        {
            return Error(scripted.Status, scripted.Message ?? "committed, then failed");
        }
        return Results.Json(new { status = "success", data = new { source = new { id = created.Id, name = created.Name, is_reachable = true } }, message = (string?)null });
    }

    /// <summary><c>DELETE /sources/{id}</c>: 404 when there is no such source (inferred shape, docs/workflow.md "Disconnect").</summary>
    private IResult Delete(HttpContext http, string id)
    {
        Interlocked.Increment(ref _deletes);
        if (Check(http, "DELETE") is { } failure)
        {
            return failure;
        }
        lock (Sources)
        {
            if (Sources.RemoveAll(s => s.Id == id) == 0) return Error(404, $"Source {id} not found");
            DeletedIds.Add(id);
            return Results.Json(new { status = "success", data = new { source = new { id } }, message = (string?)null });
        }
    }

    /// <summary>
    /// <c>PATCH /sources/{id}</c> with only the changed fields (docs/workflow.md, "Rotate"): a new password replaces the one the source
    /// holds (the body of the first POST, in either shape); anything else in the body is refused.
    /// </summary>
    private async Task<IResult> PatchAsync(HttpContext http, string id)
    {
        Interlocked.Increment(ref _patches);
        if (Check(http, "PATCH") is { } failure)
        {
            return failure;
        }
        var body = await JsonNode.ParseAsync(http.Request.Body) as JsonObject;
        var password = ApiVersion == "2023-12-01"
            ? body?["source"]?["postgres"]?["password_auth"]?["password"]?.GetValue<string>()
            : body?["source"]?["password"]?.GetValue<string>();
        if (body is null || password is null)
        {
            return Error(400, $"Invalid source patch for API version {ApiVersion}");
        }
        lock (Sources)
        {
            var source = Sources.FirstOrDefault(s => s.Id == id);
            if (source is null) return Error(404, $"Source {id} not found");
            PatchedBodies.Add((id, body));
            var stored = source.Body["source"];
            if (stored?["postgres"]?["password_auth"] is JsonObject auth) auth["password"] = password;
            else if (stored is JsonObject flat && flat.ContainsKey("password")) flat["password"] = password;
            return Results.Json(new { status = "success", data = new { source = new { id, name = source.Name } }, message = (string?)null });
        }
    }

    /// <summary>The password of the <paramref name="index"/>-th applied PATCH, in either shape.</summary>
    public string? PatchedPassword(int index = 0)
    {
        lock (Sources)
        {
            var body = PatchedBodies[index].Body;
            return (body["source"]?["postgres"]?["password_auth"]?["password"] ?? body["source"]?["password"])?.GetValue<string>();
        }
    }

    /// <summary>The password the source <paramref name="id"/> holds now (after any PATCH).</summary>
    public string? CurrentPassword(string id)
    {
        lock (Sources)
        {
            var stored = Sources.Single(s => s.Id == id).Body["source"];
            return (stored?["postgres"]?["password_auth"]?["password"] ?? stored?["password"])?.GetValue<string>();
        }
    }

    private static IResult Error(int status, string message) =>
        Results.Json(new { status = "error", data = (object?)null, message }, statusCode: status);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
