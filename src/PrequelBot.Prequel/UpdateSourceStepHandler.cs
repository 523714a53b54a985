using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PrequelBot.Workflows.Domain;
using PrequelBot.Workflows.Ports;

namespace PrequelBot.Prequel;

/// <summary>
/// <c>update-source</c> (rotate): <c>PATCH /sources/{id}</c> of the recorded Prequel source with only the new password that
/// <c>rotate-password</c> stored encrypted. The source keeps its id; no second source is made. Re-running sends the same
/// password again (docs/workflow.md, "Rotate").
/// </summary>
public sealed partial class UpdateSourceStepHandler(
    IPrequelClient prequel,
    ISecretStore secrets,
    IOptions<PrequelOptions> prequelOptions,
    ILogger<UpdateSourceStepHandler> logger) : IStepHandler
{
    public string StepName => StepNames.UpdateSource;

    private string Environment => PrequelEnvironment.FromApiKey(prequelOptions.Value.ApiKey);

    public async Task<StepPlan> PlanAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var id = context.Facts.Changes.PrequelSourceId ?? throw new StepFailedException("no Prequel source is recorded for this database; connect it first");
        var live = (await prequel.ListSourcesAsync(cancellationToken)).FirstOrDefault(s => s.Id == id)
            ?? throw new StepFailedException($"Prequel has no source {id} any more in {Environment}; connect the database again");
        return StepPlan.Change($"update the password of Prequel source {live.Name} (id {id}) in {Environment} to the new one of {context.Request.UserName} (PATCH /sources/{id})",
            $"Prequel environment: {Environment}. Only the password changes.");
    }

    public async Task<StepResult> ApplyAsync(StepContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.EnsureApproved(await PlanAsync(context, cancellationToken));
        var id = context.Facts.Changes.PrequelSourceId!;
        var password = await secrets.GetAsync(context.OnboardingId, SecretNames.UserPassword, cancellationToken)
            ?? throw new StepFailedException($"The new password of {context.Request.UserName} is no longer stored; start a new rotate.");
        await prequel.UpdatePasswordAsync(id, password, cancellationToken);
        LogUpdated(context.OnboardingId, id);
        return StepResult.Done($"Prequel source {id} holds the new password");
    }

    [LoggerMessage(LogLevel.Information, "update-source for onboarding {OnboardingId}: Prequel source {SourceId} has the new password")]
    private partial void LogUpdated(string onboardingId, string sourceId);
}
