using System.Diagnostics;
using Hangfire.Client;
using Hangfire.Common;
using Hangfire.Server;
using PrequelBot.Workflows.Jobs;

namespace PrequelBot.Workflows.Telemetry;

/// <summary>
/// Carries the trace of the request that enqueued a job into the job, on whatever node runs it (docs/operations.md,
/// "Metrics and traces"): at creation it stores the current W3C <c>traceparent</c> (and <c>tracestate</c>) as job
/// parameters — ids only, never a secret — and at perform it starts one span per job as the child of that context: for
/// a step job <c>step {step}</c> with the onboarding id and step as attributes, for the chat outbox <c>chat sync</c>.
/// Stateless; added once to Hangfire's global filters.
/// </summary>
public sealed class TraceContextJobFilter : JobFilterAttribute, IClientFilter, IServerFilter
{
    public const string TraceParentParameter = "traceparent";
    public const string TraceStateParameter = "tracestate";
    private const string ActivityItem = "PrequelBot.Activity";

    public void OnCreating(CreatingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Activity.Current is not { } current || current.IdFormat != ActivityIdFormat.W3C) return;
        context.SetJobParameter(TraceParentParameter, current.Id);
        if (!string.IsNullOrEmpty(current.TraceStateString)) context.SetJobParameter(TraceStateParameter, current.TraceStateString);
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var job = context.BackgroundJob.Job;
        var args = job.Args;
        var onboardingId = args.Count > 0 ? args[0] as string : null;
        var step = args.Count > 1 ? args[1] as string : null;
        var name = job.Type == typeof(StepJob) && step is not null ? "step " + step
            : job.Type == typeof(ChatSyncJob) ? "chat sync"
            : job.Type.Name + "." + job.Method.Name;

        ActivityContext.TryParse(
            context.GetJobParameter<string>(TraceParentParameter),
            context.GetJobParameter<string>(TraceStateParameter),
            isRemote: true,
            out var parent);
        var activity = PrequelBotTelemetry.Source.StartActivity(name, ActivityKind.Consumer, parent);
        if (activity is null) return;
        if (onboardingId is not null) activity.SetTag(PrequelBotTelemetry.Tags.OnboardingId, onboardingId);
        if (step is not null && job.Type == typeof(StepJob)) activity.SetTag(PrequelBotTelemetry.Tags.Step, step);
        activity.SetTag(PrequelBotTelemetry.Tags.Node, NodeOf(context.ServerId));
        activity.SetTag("messaging.system", "hangfire");
        activity.SetTag("messaging.message.id", context.BackgroundJob.Id);
        context.Items[ActivityItem] = activity;
    }

    public void OnPerformed(PerformedContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Items.TryGetValue(ActivityItem, out var item) || item is not Activity activity) return;
        if (context.Exception is { } error && !context.ExceptionHandled)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.GetType().Name);
        }

        activity.Stop();
    }

    /// <summary>The node part of a Hangfire server id (<c>{node}:{pid}:{role}:{guid}</c>, see the host's job servers).</summary>
    public static string NodeOf(string? serverId) =>
        string.IsNullOrEmpty(serverId) ? "" : serverId.Split(':')[0];
}
