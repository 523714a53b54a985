using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PrequelBot.Workflows.Telemetry;

/// <summary>
/// PrequelBot's own traces and metrics (docs/operations.md, "Metrics and traces"): one <see cref="ActivitySource"/> and
/// one <see cref="Meter"/>, both named <see cref="Name"/>. Every tag is low-cardinality (step names, states, platform and
/// dependency names, outcomes); the onboarding id appears only as a span attribute. No secret is ever a tag or attribute.
/// Static, like the sources of the libraries it sits beside (Npgsql, HttpClient): any number of exporters may listen.
/// </summary>
public static class PrequelBotTelemetry
{
    public const string Name = "PrequelBot";

    /// <summary>Span attributes and metric tags.</summary>
    public static class Tags
    {
        public const string OnboardingId = "prequelbot.onboarding.id";
        public const string Step = "step";
        public const string Outcome = "outcome";
        public const string Kind = "kind";
        public const string State = "state";
        public const string Platform = "platform";
        public const string Dependency = "dependency";
        /// <summary><c>Telemetry:NodeName</c> of the process that made a span (on job and request spans).</summary>
        public const string Node = "prequelbot.node";
    }

    /// <summary>Values of the <c>dependency</c> tag.</summary>
    public static class Dependencies
    {
        public const string Slack = "slack";
        public const string Teams = "teams";
        public const string Rds = "rds";
        public const string Ec2 = "ec2";
        public const string Prequel = "prequel";
        public const string Postgres = "postgres";
    }

    public static readonly ActivitySource Source = new(Name, typeof(PrequelBotTelemetry).Assembly.GetName().Version?.ToString());

    public static readonly Meter Meter = new(Name, typeof(PrequelBotTelemetry).Assembly.GetName().Version?.ToString());

    private static readonly Histogram<double> StepDuration = Meter.CreateHistogram<double>(
        "prequelbot.step.duration", "s", "How long one run of a step took (apply and verify), by step and outcome.");

    private static readonly Histogram<double> ApprovalWait = Meter.CreateHistogram<double>(
        "prequelbot.approval.wait", "s", "From an approval prompt being posted to the decision that settled it, by step.");

    private static readonly Histogram<double> OutboxLag = Meter.CreateHistogram<double>(
        "prequelbot.chat.outbox.lag", "s", "From a change of an onboarding to chat showing it, by platform.");

    private static readonly Counter<long> DependencyCalls = Meter.CreateCounter<long>(
        "prequelbot.dependency.calls", "{call}", "Calls to an outside system, by dependency and outcome (success or error).");

    private static readonly Histogram<double> DependencyDuration = Meter.CreateHistogram<double>(
        "prequelbot.dependency.duration", "s", "Duration of calls to an outside system, by dependency and outcome.");

    private static readonly Counter<long> DriftChecks = Meter.CreateCounter<long>(
        "prequelbot.drift.checks", "{check}", "Drift checks of connected databases, by outcome (ok or drifted).");

    /// <summary>Outcome tag of a dependency call.</summary>
    public const string Success = "success";

    /// <summary>Outcome tag of a failed dependency call.</summary>
    public const string Error = "error";

    public static void RecordStep(string step, string outcome, TimeSpan elapsed) =>
        StepDuration.Record(elapsed.TotalSeconds, new(Tags.Step, step), new(Tags.Outcome, outcome));

    public static void RecordApprovalWait(string step, TimeSpan wait) =>
        ApprovalWait.Record(Math.Max(0, wait.TotalSeconds), new KeyValuePair<string, object?>(Tags.Step, step));

    public static void RecordOutboxLag(string platform, TimeSpan lag) =>
        OutboxLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>(Tags.Platform, platform));

    public static void RecordDriftCheck(bool drifted) =>
        DriftChecks.Add(1, new KeyValuePair<string, object?>(Tags.Outcome, drifted ? "drifted" : "ok"));

    public static void RecordDependency(string dependency, bool success, TimeSpan elapsed)
    {
        var outcome = success ? Success : Error;
        DependencyCalls.Add(1, new(Tags.Dependency, dependency), new(Tags.Outcome, outcome));
        DependencyDuration.Record(elapsed.TotalSeconds, new(Tags.Dependency, dependency), new(Tags.Outcome, outcome));
    }
}
