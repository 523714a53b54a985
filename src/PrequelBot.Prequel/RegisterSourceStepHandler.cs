using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel;

/// <summary>
/// <c>register-source</c>: finds the Prequel source by name or creates it with the target's endpoint, the admin
/// connection's database, the first schema and the read-only user's stored password; records
/// <see cref="OnboardingFacts.PrequelSourceId"/>, then erases the stored password. Idempotent: a re-run finds the
/// source by name and creates no duplicate.
/// </summary>
public sealed partial class RegisterSourceStepHandler(
    IPrequelClient prequel,
    ISecretStore secrets,
    IOptions<PrequelOptions> prequelOptions,
    IOptions<DatabasesOptions> databases,
    ILogger<RegisterSourceStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.RegisterSource;

    private string Environment => PrequelEnvironment.FromApiKey(prequelOptions.Value.ApiKey);

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        RequireConfigured();
        var name = context.Request.SourceName;
        if (await prequel.FindByNameAsync(name, cancellationToken) is { } existing)
        {
            if (!context.IsPreview && context.ResumedPlan is not null)
            {
                // A run of this approved step created it and stopped before its save: it is this bot's, with the new password.
                context.Facts.PrequelSourceId = existing.Id;
                context.Facts.Changes.SetSource(existing.Id, created: true);
                return StepPlan.AlreadyInPlace($"Prequel source {name} was created by this onboarding (id {existing.Id}) in {Environment}");
            }
            if (!context.IsPreview && context.Facts.Values.ContainsKey(FactKeys.UserPasswordSet))
            {
                // create-user gave the role a new password in this onboarding; a source that already existed still
                // holds an older one and would silently stop working. Say so instead of reusing it.
                throw new StepFailedException(
                    $"Prequel source {name} already exists (id {existing.Id}) in {Environment}, but create-user has just set a new password for " +
                    $"{context.Request.UserName}, so that source still uses the old one. Delete the source in Prequel (or pick another --source-name " +
                    $"in a new connect), then retry {context.OnboardingId}.");
            }
            // The engine keeps facts learned by an "already in place" plan.
            context.Facts.PrequelSourceId = existing.Id;
            if (!context.IsPreview) context.Facts.Changes.SetSource(existing.Id, created: false);
            return StepPlan.AlreadyInPlace($"Prequel source {name} already exists (id {existing.Id}) in {Environment}");
        }
        var (host, port) = TargetOf(context, forPlan: true);
        return StepPlan.Change(ChangeLine(context, host, port), $"Prequel environment: {Environment}");
    }

    private string ChangeLine(StepContext context, string host, int port) =>
        $"Create Prequel source {context.Request.SourceName} (postgres, {host}:{port}, database {DatabaseOf(context)}, user {context.Request.UserName}) in {Environment}";

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        RequireConfigured();
        var name = context.Request.SourceName;
        var existing = await prequel.FindByNameAsync(name, cancellationToken);
        PrequelSource source;
        bool created;
        if (existing is not null)
        {
            (source, created) = (existing, false);
        }
        else
        {
            var password = await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken)
                ?? throw new StepFailedException($"The password of {context.Request.UserName} is no longer stored for this onboarding; retry so create-user sets a new one.");
            var (host, port) = TargetOf(context, forPlan: false);
            context.EnsureApproved(StepPlan.Change(ChangeLine(context, host, port)));
            var request = new NewPrequelSource(name, host, port, DatabaseOf(context), context.Request.Schemas.Count > 0 ? context.Request.Schemas[0] : "public", context.Request.UserName, password);
            (source, created) = await prequel.EnsureSourceAsync(request, cancellationToken);
        }
        // The stored password is erased by the engine when the onboarding leaves (docs/workflow.md): a crash right
        // after this line resumes here, finds the source by name and needs nothing stored.
        context.Facts.PrequelSourceId = source.Id;
        // Apply runs only after the live plan found no source of that name: one found now was made by this step's own run.
        context.Facts.Changes.SetSource(source.Id, created: created || context.ResumedPlan is not null || existing is not null);
        LogRegistered(context.OnboardingId, source.Id, name, created);
        var reachable = source.IsReachable switch { true => "; Prequel reports it reachable", false => "; Prequel reports it NOT reachable yet", _ => string.Empty };
        return StepResult.Done($"Prequel source {name} {(created ? "created" : "found")} (id {source.Id}) in {Environment}{reachable}.");
    }

    private void RequireConfigured()
    {
        if (string.IsNullOrWhiteSpace(prequelOptions.Value.ApiKey))
        {
            throw new StepFailedException("Prequel is not configured: set Prequel:ApiKey.");
        }
    }

    private static (string Host, int Port) TargetOf(StepContext context, bool forPlan)
    {
        // Without --replica the target is the source; discover may have recorded only the source.
        var target = context.Facts.Target ?? (context.Request.Replica ? null : context.Facts.Source);
        if (target?.EndpointAddress is { Length: > 0 } host)
        {
            return (host, target.Port);
        }
        if (forPlan)
        {
            return ($"<endpoint of {context.Request.TargetInstanceIdentifier}>", target?.Port ?? 5432);
        }
        throw new StepFailedException($"The endpoint of {context.Request.TargetInstanceIdentifier} is not known yet; run discover first.");
    }

    /// <summary>The Database of the admin connection string, else the instance's DBName, else "postgres".</summary>
    private string DatabaseOf(StepContext context) => DatabaseOf(databases.Value, context.Request.DatabaseAlias, context.Facts);

    /// <summary>The database name Prequel is given: the admin connection's, else the instance's DBName, else <c>postgres</c>.</summary>
    internal static string DatabaseOf(DatabasesOptions databases, string alias, OnboardingFacts facts)
    {
        if (databases.TryGet(alias, out _, out var db) && !string.IsNullOrWhiteSpace(db.AdminConnectionString))
        {
            try
            {
                var builder = new DbConnectionStringBuilder { ConnectionString = db.AdminConnectionString };
                foreach (var key in new[] { "Database", "DB" })
                {
                    if (builder.TryGetValue(key, out var value) && value is string { Length: > 0 } name)
                    {
                        return name;
                    }
                }
            }
            catch (ArgumentException)
            {
                // Malformed: create-user reports it; fall back here.
            }
        }
        return facts.Source?.DatabaseName is { Length: > 0 } dbName ? dbName : "postgres";
    }

    [LoggerMessage(LogLevel.Information, "register-source for onboarding {OnboardingId}: Prequel source {SourceId} ({SourceName}), created {Created}; stored password erased")]
    private partial void LogRegistered(string onboardingId, string sourceId, string sourceName, bool created);
}
