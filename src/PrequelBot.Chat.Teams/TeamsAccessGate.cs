using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// Which authenticated activities <c>POST /api/messages</c> serves (docs/security.md, "Tenancy"): the <c>msteams</c>
/// channel only (plus <c>emulator</c> in the Development environment), from a tenant in <c>Teams:AllowedTenantIds</c> or
/// <c>Teams:TenantId</c> when either is set. The two tenant fields (<c>conversation.tenantId</c>,
/// <c>channelData.tenant.id</c>) must agree, and a Teams activity must carry one. Anything else is refused before it
/// is queued, so it changes nothing.
/// </summary>
internal sealed partial class TeamsAccessGate(IOptions<TeamsOptions> options, IHostEnvironment environment, ILogger<TeamsAccessGate> logger)
{
    public const string TeamsChannel = "msteams";
    public const string EmulatorChannel = "emulator";

    private readonly HashSet<string> _tenants = AllowedTenants(options.Value);

    /// <summary>The tenants served; empty = any.</summary>
    public static HashSet<string> AllowedTenants(TeamsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var set = new HashSet<string>(options.AllowedTenantIds.Where(t => !string.IsNullOrWhiteSpace(t)).Select(Normalise), StringComparer.OrdinalIgnoreCase);
        if (!string.IsNullOrWhiteSpace(options.TenantId)) set.Add(Normalise(options.TenantId));
        return set;
    }

    /// <summary>True when the activity may go on; false means 403 and nothing else.</summary>
    public bool Allows(Activity activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var channel = activity.ChannelId;
        var emulator = string.Equals(channel, EmulatorChannel, StringComparison.Ordinal) && environment.IsDevelopment();
        if (!string.Equals(channel, TeamsChannel, StringComparison.Ordinal) && !emulator)
        {
            LogRefused(logger, channel ?? "(none)", "the channel is not msteams");
            return false;
        }

        var conversationTenant = activity.Conversation?.TenantId;
        var channelDataTenant = ChannelDataTenant(activity.ChannelData);
        if (conversationTenant is not null && channelDataTenant is not null &&
            !string.Equals(Normalise(conversationTenant), Normalise(channelDataTenant), StringComparison.OrdinalIgnoreCase))
        {
            LogRefused(logger, channel!, "conversation.tenantId and channelData.tenant.id disagree");
            return false;
        }

        var tenant = conversationTenant ?? channelDataTenant;
        if (tenant is null)
        {
            // The emulator sends no tenant; it is only served in Development, and only while no tenant list applies.
            if (emulator && _tenants.Count == 0) return true;
            LogRefused(logger, channel!, "the activity names no tenant");
            return false;
        }

        if (_tenants.Count > 0 && !_tenants.Contains(Normalise(tenant)))
        {
            LogRefused(logger, channel!, "the tenant is not in Teams:AllowedTenantIds or Teams:TenantId");
            return false;
        }
        return true;
    }

    private static string? ChannelDataTenant(JsonElement? channelData) =>
        channelData is { ValueKind: JsonValueKind.Object } cd && cd.TryGetProperty("tenant", out var t) &&
        t.ValueKind == JsonValueKind.Object && t.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString()
            : null;

    private static string Normalise(string tenant) => Guid.TryParse(tenant.Trim(), out var g) ? g.ToString("D") : tenant.Trim();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a Teams activity on channel {ChannelId}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string channelId, string reason);
}
