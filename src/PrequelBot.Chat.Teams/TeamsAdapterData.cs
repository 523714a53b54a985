using System.Text.Json;

namespace PrequelBot.Chat.Teams;

/// <summary>
/// What the adapter stores in <c>ConversationRef.AdapterData</c> / <c>ChatMessageRef.AdapterData</c> to reach a
/// conversation again. Comes only from authenticated activities. No secrets.
/// </summary>
internal sealed record TeamsAdapterData(string ServiceUrl, string? TenantId, string? BotId, string? BotName, string? ChannelId)
{
    public string ToJson() => JsonSerializer.Serialize(this, TeamsJson.Options);

    public static TeamsAdapterData FromActivity(Activity activity) =>
        new(activity.ServiceUrl!, activity.TenantId, activity.Recipient?.Id, activity.Recipient?.Name, activity.ChannelId);

    /// <summary>Reads adapter data; throws <see cref="InvalidOperationException"/> when it is missing or has no usable serviceUrl.</summary>
    public static TeamsAdapterData Parse(string? json)
    {
        TeamsAdapterData? data = null;
        if (!string.IsNullOrWhiteSpace(json))
        {
            try { data = JsonSerializer.Deserialize<TeamsAdapterData>(json, TeamsJson.Options); }
            catch (JsonException) { data = null; }
        }
        if (data is null || !TeamsOptions.IsHttpUrl(data.ServiceUrl))
            throw new InvalidOperationException("The Teams conversation reference carries no valid serviceUrl.");
        return data;
    }
}
