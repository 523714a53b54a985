using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace PrequelBot.Workflows.Options;

/// <summary>Validates <c>Approvals</c>.</summary>
public sealed class ApprovalOptionsValidator : IValidateOptions<ApprovalOptions>
{
    public ValidateOptionsResult Validate(string? name, ApprovalOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.Timeout <= TimeSpan.Zero)
            failures.Add($"Approvals:Timeout must be positive, e.g. 1.00:00:00 (got '{options.Timeout}').");
        void People(List<string> entries, string key)
        {
            for (var i = 0; i < entries.Count; i++)
            {
                if (Domain.ChatUserId.Parse(entries[i], out var error) is null)
                    failures.Add($"Approvals:{key}:{i} {error} (got '{entries[i]}').");
            }
        }
        People(options.Approvers, nameof(options.Approvers));
        People(options.Requesters, nameof(options.Requesters));
        var steps = Domain.StepCatalogue.All.SelectMany(c => c.Steps).Where(s => s.NeedsApproval).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (step, settings) in options.Steps)
        {
            if (!steps.Contains(step))
                failures.Add($"Approvals:Steps:{step} is not a step that asks for approval (those are {string.Join(", ", steps)}).");
            else if (settings.Required is < 1 or > 10)
                failures.Add($"Approvals:Steps:{step}:Required must be 1–10 (got {settings.Required}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Validates <c>Databases</c>: aliases and instance identifiers follow the RDS identifier rules.</summary>
public sealed class DatabasesOptionsValidator : IValidateOptions<DatabasesOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabasesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var (alias, db) in options.Entries)
        {
            if (!SettingChecks.IsRdsIdentifier(alias.ToLowerInvariant()))
                failures.Add($"Databases:{alias} is not a valid database alias: use 1–63 letters, digits and single hyphens, starting with a letter.");
            if (!string.IsNullOrWhiteSpace(db.InstanceIdentifier) && !SettingChecks.IsRdsIdentifier(db.InstanceIdentifier.Trim().ToLowerInvariant()))
                failures.Add($"Databases:{alias}:InstanceIdentifier is not a valid RDS DB instance identifier (got '{db.InstanceIdentifier}').");
            if (!string.IsNullOrWhiteSpace(db.ClusterIdentifier) && !SettingChecks.IsRdsIdentifier(db.ClusterIdentifier.Trim().ToLowerInvariant()))
                failures.Add($"Databases:{alias}:ClusterIdentifier is not a valid Aurora DB cluster identifier (got '{db.ClusterIdentifier}').");
            if (!string.IsNullOrWhiteSpace(db.ClusterIdentifier) && !string.IsNullOrWhiteSpace(db.InstanceIdentifier))
                failures.Add($"Databases:{alias} sets both InstanceIdentifier and ClusterIdentifier: keep one.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Validates <c>Workflow</c>.</summary>
public sealed class WorkflowOptionsValidator : IValidateOptions<WorkflowOptions>
{
    public ValidateOptionsResult Validate(string? name, WorkflowOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        var failures = new List<string>();
        void Positive(TimeSpan value, string key) { if (value <= TimeSpan.Zero) failures.Add($"Workflow:{key} must be positive (got '{value}')."); }
        Positive(o.ReconcileInterval, nameof(o.ReconcileInterval));
        Positive(o.StartGrace, nameof(o.StartGrace));
        Positive(o.RecheckInitialDelay, nameof(o.RecheckInitialDelay));
        Positive(o.RecheckMaxDelay, nameof(o.RecheckMaxDelay));
        Positive(o.WaitTimeout, nameof(o.WaitTimeout));
        Positive(o.StepLease, nameof(o.StepLease));
        if (o.MaxStepErrors is < 1 or > 100) failures.Add($"Workflow:MaxStepErrors must be 1–100 (got {o.MaxStepErrors}).");
        if (o.ApprovalWorkers is < 1 or > 64) failures.Add($"Workflow:ApprovalWorkers must be 1–64 (got {o.ApprovalWorkers}).");
        if (o.RecheckWorkers is < 1 or > 64) failures.Add($"Workflow:RecheckWorkers must be 1–64 (got {o.RecheckWorkers}).");
        if (o.Workers is < 1 or > 256) failures.Add($"Workflow:Workers must be 1–256 (got {o.Workers}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>Small checks shared by validators.</summary>
public static class SettingChecks
{
    public static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    /// <summary>RDS DB instance identifier rules (the command parser's own check, so settings and commands agree).</summary>
    public static bool IsRdsIdentifier(string value) => PrequelBot.Commands.Identifiers.IsRdsInstanceIdentifier(value);
}
