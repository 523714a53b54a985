using System.Globalization;
using System.Text.RegularExpressions;

namespace PrequelBot.Postgres.Users;

/// <summary>
/// The role settings that harden the reader (docs/postgres.md, "Hardening"): read-only by default, a limit on idle
/// transactions and, optionally, on statements. Values are generated here from typed values only, because
/// <c>ALTER ROLE … SET</c> takes no parameters. Also reads those settings back from <c>pg_db_role_setting</c>.
/// </summary>
public static partial class ReaderHardening
{
    public const string ReadOnlyDefault = "default_transaction_read_only";
    public const string IdleInTransactionTimeout = "idle_in_transaction_session_timeout";
    public const string StatementTimeout = "statement_timeout";

    /// <summary>The reader's idle-in-transaction limit: 15 minutes.</summary>
    public static readonly TimeSpan IdleInTransactionLimit = TimeSpan.FromMinutes(15);

    /// <summary>The largest statement_timeout PostgreSQL accepts (an int of milliseconds).</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <summary>A duration as a PostgreSQL time literal in its largest exact unit: <c>'15min'</c>, <c>'1h'</c>, <c>'1500ms'</c>.</summary>
    public static string TimeLiteral(TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > MaxTimeout || value.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), "A timeout must be a positive whole number of milliseconds up to 24.20:31:23.647.");
        }
        var ms = (long)value.TotalMilliseconds;
        var text = (ms % 3_600_000 == 0) ? $"{ms / 3_600_000}h"
            : (ms % 60_000 == 0) ? $"{ms / 60_000}min"
            : (ms % 1000 == 0) ? $"{ms / 1000}s"
            : $"{ms}ms";
        return "'" + text + "'";
    }

    /// <summary>Parses a stored time setting (<c>15min</c>, <c>900000</c>, <c>'1h'</c>) to milliseconds; null if unreadable.</summary>
    public static long? ParseMilliseconds(string? value)
    {
        if (value is null)
        {
            return null;
        }
        var match = TimeValue().Match(value.Trim().Trim('\''));
        if (!match.Success || !double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }
        var factor = match.Groups[2].Value switch
        {
            "" or "ms" => 1.0,
            "us" => 0.001,
            "s" => 1000.0,
            "min" => 60_000.0,
            "h" => 3_600_000.0,
            "d" => 86_400_000.0,
            _ => double.NaN,
        };
        return double.IsNaN(factor) ? null : (long)Math.Round(number * factor);
    }

    /// <summary>True when a stored boolean setting means on (PostgreSQL accepts on, true, yes, 1 and their prefixes).</summary>
    public static bool IsOn(string? value) =>
        value?.Trim().Trim('\'').ToLowerInvariant() is "on" or "true" or "tru" or "tr" or "t" or "yes" or "ye" or "y" or "1";

    /// <summary>
    /// The changes the reader needs, given its settings for all databases (<paramref name="global"/>) and for this one
    /// (<paramref name="here"/>, which win). A timeout the customer set that is already stricter is kept on a role
    /// PrequelBot did not create; on its own role the configured value is exact.
    /// </summary>
    public static IReadOnlyList<RoleSettingChange> Needed(
        IReadOnlyDictionary<string, string> global, IReadOnlyDictionary<string, string> here, TimeSpan? statementTimeout, bool ownRole)
    {
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(here);
        var changes = new List<RoleSettingChange>();
        string? Effective(string name) => here.TryGetValue(name, out var v) ? v : global.TryGetValue(name, out var g) ? g : null;
        void Add(string name, string value) => changes.Add(new RoleSettingChange(name, value, here.ContainsKey(name)));
        bool TimeOk(string name, TimeSpan wanted)
        {
            var ms = ParseMilliseconds(Effective(name));
            var target = (long)wanted.TotalMilliseconds;
            return ms is { } v && (ownRole ? v == target : v > 0 && v <= target);
        }

        if (!IsOn(Effective(ReadOnlyDefault)))
        {
            Add(ReadOnlyDefault, "on");
        }
        if (!TimeOk(IdleInTransactionTimeout, IdleInTransactionLimit))
        {
            Add(IdleInTransactionTimeout, TimeLiteral(IdleInTransactionLimit));
        }
        if (statementTimeout is { } timeout && !TimeOk(StatementTimeout, timeout))
        {
            Add(StatementTimeout, TimeLiteral(timeout));
        }
        return changes;
    }

    /// <summary>Splits <c>pg_db_role_setting.setconfig</c> entries (<c>name=value</c>) into a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> ParseConfig(IEnumerable<string>? entries)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries ?? [])
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                result[entry[..eq]] = entry[(eq + 1)..];
            }
        }
        return result;
    }

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|min|h|d)?$", RegexOptions.CultureInvariant)]
    private static partial Regex TimeValue();
}

/// <summary>
/// The marker PrequelBot leaves on a role it creates: <c>COMMENT ON ROLE … IS 'PrequelBot read-only user for database
/// "shop" (onboarding ob-…)'</c>. Role comments are shared by every database of the instance, so the planner of any
/// database reads the same text back (docs/postgres.md, "Reusing a role").
/// </summary>
public static class RoleMarker
{
    private const string Prefix = "PrequelBot read-only user for database \"";

    /// <summary>The comment for a role created for <paramref name="database"/> by <paramref name="onboardingId"/>.</summary>
    public static string For(string database, string onboardingId) => $"{Prefix}{database}\" (onboarding {onboardingId})";

    /// <summary>What <paramref name="comment"/> says about the role, as seen from <paramref name="database"/> in <paramref name="onboardingId"/>.</summary>
    public static RoleOrigin Read(string? comment, string database, string onboardingId)
    {
        if (comment is null || !comment.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return RoleOrigin.NotMarked;
        }
        if (string.Equals(comment, For(database, onboardingId), StringComparison.Ordinal))
        {
            return RoleOrigin.ThisOnboarding;
        }
        return comment.StartsWith($"{Prefix}{database}\" (onboarding ", StringComparison.Ordinal) ? RoleOrigin.ThisDatabase : RoleOrigin.OtherDatabase;
    }

    /// <summary>The database a marker names, for messages; null when the comment is not a marker.</summary>
    public static string? DatabaseOf(string? comment)
    {
        if (comment is null || !comment.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }
        var end = comment.LastIndexOf("\" (onboarding ", StringComparison.Ordinal);
        return end > Prefix.Length ? comment[Prefix.Length..end] : null;
    }
}
