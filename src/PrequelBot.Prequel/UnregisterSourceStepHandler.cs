using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Options;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel;

/// <summary>
/// <c>unregister-source</c> (disconnect): <c>DELETE /sources/{id}</c> of the source the change record says this bot
/// created. A source that existed before the connect (found by name) is left alone and the card says so; a 404 means it is
/// already gone. Idempotent (docs/workflow.md, "Disconnect").
/// </summary>
public sealed partial class UnregisterSourceStepHandler(
    IPrequelClient prequel,
    IOptions<PrequelOptions> prequelOptions,
    ILogger<UnregisterSourceStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.UnregisterSource;

    private string Environment => PrequelEnvironment.FromApiKey(prequelOptions.Value.ApiKey);

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var record = context.Facts.Changes;
        if (record.PrequelSourceId is not { } id)
        {
            return StepPlan.AlreadyInPlace("PrequelBot registered no Prequel source for this database");
        }
        if (!record.SourceCreated)
        {
            return StepPlan.AlreadyInPlace($"Prequel source {id} existed before the connect; left alone");
        }
        var live = (await prequel.ListSourcesAsync(cancellationToken)).FirstOrDefault(s => s.Id == id);
        if (live is null)
        {
            return StepPlan.AlreadyInPlace($"Prequel source {id} is already gone");
        }
        return StepPlan.Change($"delete Prequel source {live.Name} (id {id}) in {Environment}", $"Prequel environment: {Environment}. Prequel stops reading this database.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.EnsureApproved(await PlanAsync(context, cancellationToken));
        var id = context.Facts.Changes.PrequelSourceId ?? throw new StepFailedException("no Prequel source is recorded");
        var deleted = await prequel.DeleteSourceAsync(id, cancellationToken);
        LogDeleted(context.OnboardingId, id, deleted);
        return StepResult.Done(deleted ? $"Prequel source {id} deleted" : $"Prequel source {id} was already gone");
    }

    [LoggerMessage(LogLevel.Information, "unregister-source for onboarding {OnboardingId}: Prequel source {SourceId}, deleted now {Deleted}")]
    private partial void LogDeleted(string onboardingId, string sourceId, bool deleted);
}
