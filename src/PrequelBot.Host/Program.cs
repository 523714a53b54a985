// The slim builder (docs/operations.md, "Hosting"): no IIS integration, HTTP/3, regex route constraints or Debug
// and EventSource loggers, none of which a Linux chat bot uses; Kestrel's HTTPS endpoint settings are added back.
var builder = WebApplication.CreateSlimBuilder(args);
builder.WebHost.UseKestrelHttpsConfiguration();

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
builder.Services.AddStartupMemoryRelease();

var app = builder.Build();
if (!app.HasValidSettings()) return 1;
app.SizeThreadPool();

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
