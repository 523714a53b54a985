using System.Security.Cryptography;
using System.Text;

namespace PrequelBot.Workflows.Domain;

/// <summary>
/// A step's plan: the exact, human-readable change lines, or nothing (already in place). A storable value: the prompt
/// is rendered from it, an approval stores it with its <see cref="Hash"/>, and Apply receives the approved plan
/// (docs/workflow.md, "Approvals are bound to the change").
/// </summary>
public sealed record StepPlan
{
    public IReadOnlyList<string> Changes { get; init; } = [];
    /// <summary>Context for the approver that is not itself a change (e.g. "Prequel environment: production").</summary>
    public string? Note { get; init; }
    /// <summary>Why nothing changes, shown on the card (e.g. "rule sg-1: tcp 5432 from 0.0.0.0/0 already covers it").</summary>
    public string? Detail { get; init; }
    /// <summary>
    /// Optional structured form of the change a handler wants back in Apply (e.g. JSON of the exact rules). Part of
    /// <see cref="Hash"/>; never a secret (it is stored and shown in no chat, but kept with the approval).
    /// </summary>
    public string? Payload { get; init; }

    public bool HasChanges => Changes.Count > 0;

    public static StepPlan Change(IEnumerable<string> changes, string? note = null) => new() { Changes = [.. changes], Note = note };
    public static StepPlan Change(string change, string? note = null) => new() { Changes = [change], Note = note };
    public static StepPlan AlreadyInPlace(string? detail = null) => new() { Detail = detail };

    /// <summary>Fingerprint of what an approval of <paramref name="step"/> covers: the change lines, the note and the payload.</summary>
    public string Hash(string step)
    {
        var text = new StringBuilder(step);
        foreach (var change in Changes) text.Append("\nchange:").Append(change);
        text.Append("\nnote:").Append(Note).Append("\npayload:").Append(Payload);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>One line saying how <paramref name="now"/> differs from this (approved) plan, for the card.</summary>
    public string DifferenceTo(StepPlan now)
    {
        ArgumentNullException.ThrowIfNull(now);
        var gone = Changes.Except(now.Changes, StringComparer.Ordinal).ToList();
        var added = now.Changes.Except(Changes, StringComparer.Ordinal).ToList();
        var parts = new List<string>();
        if (gone.Count > 0) parts.Add("no longer needed: " + string.Join("; ", gone));
        if (added.Count > 0) parts.Add("now also: " + string.Join("; ", added));
        if (parts.Count == 0) parts.Add(Note != now.Note ? $"the note is now: {now.Note}" : "the details of the change differ");
        return string.Join("; ", parts);
    }
}
