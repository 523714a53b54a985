using System.Text.Json;
using System.Text.Json.Serialization;

namespace PrequelBot.Chat.Teams;

/// <summary>The fields of a Bot Framework Activity this adapter reads (unknown fields are ignored, A2005).</summary>
internal sealed record Activity
{
    public string? Type { get; init; }
    public string? Id { get; init; }
    public string? Name { get; init; }
    public string? ChannelId { get; init; }
    public string? ServiceUrl { get; init; }
    public ChannelAccount? From { get; init; }
    public ChannelAccount? Recipient { get; init; }
    public ConversationAccount? Conversation { get; init; }
    public string? Text { get; init; }
    public string? ReplyToId { get; init; }
    public JsonElement? Value { get; init; }
    public IReadOnlyList<Entity>? Entities { get; init; }
    public IReadOnlyList<ChannelAccount>? MembersAdded { get; init; }
    public JsonElement? ChannelData { get; init; }

    /// <summary>The tenant from <c>conversation.tenantId</c> or <c>channelData.tenant.id</c>.</summary>
    public string? TenantId =>
        Conversation?.TenantId ??
        (ChannelData is { ValueKind: JsonValueKind.Object } cd && cd.TryGetProperty("tenant", out var t) &&
         t.ValueKind == JsonValueKind.Object && t.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String
            ? id.GetString() : null);
}

internal sealed record ChannelAccount(string? Id, string? Name, string? AadObjectId);

internal sealed record ConversationAccount(string? Id, string? ConversationType, string? TenantId);

internal sealed record Entity(string? Type, ChannelAccount? Mentioned, string? Text);

/// <summary>Activity type names (Bot Framework Activity spec).</summary>
internal static class ActivityTypes
{
    public const string Message = "message";
    public const string ConversationUpdate = "conversationUpdate";
    public const string Invoke = "invoke";
}

/// <summary>One JSON configuration for everything the adapter reads and writes.</summary>
internal static class TeamsJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}
