// Hangfire's client (and Hangfire.PostgreSql's enqueue) is synchronous: a burst of clicks or commands blocks pool
// threads, and the pool adds threads only slowly beyond its minimum (one per core). Threads up to this minimum are
// created on demand without that delay; none are created idle (bench/README.md, "Scale").
System.Threading.ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
System.Threading.ThreadPool.SetMinThreads(Math.Max(minWorkers, 32), minIo);

var builder = WebApplication.CreateBuilder(args);

builder.AddPrequelSettingsFile();
builder.LimitRequestBodies();
builder.AddPrequelTelemetry();
builder.Services.AddPrequelStorage();
builder.Services.AddPrequelWorkflows();
builder.Services.AddPrequelJobServers();
builder.Services.AddSlackChat();
builder.Services.AddTeamsChat();
builder.Services.AddAwsSteps();
builder.Services.AddKmsKeyRingEncryption();
builder.Services.AddPostgresUserSteps();
builder.Services.AddPrequelSource();
builder.Services.AddOperatorAccess();
builder.Services.AddStartupReport();

var app = builder.Build();
if (!app.HasValidSettings()) return 1;

app.MapPrequelTelemetry();
app.MapHealthEndpoints();
app.MapSlackEndpoints();
app.MapTeamsEndpoints();
app.MapOperatorDashboard();
PrequelBot.Host.Api.AuditEndpoints.MapAuditApi(app);

await app.RunAsync();
return 0;

/// <summary>The entry point's type; public so integration tests can start the host.</summary>
public partial class Program;
