using System.Text.Json;
using System.Text.Json.Serialization;

namespace PrequelBot.State;

/// <summary>The JSON shape of stored columns. Changing it is a schema change: keep it additive.</summary>
internal static class StateJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // States and kinds as their words ("awaiting-approval"), as every earlier version stored them.
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Read<T>(string json) => JsonSerializer.Deserialize<T>(json, Options)
        ?? throw new InvalidDataException($"Stored {typeof(T).Name} is null.");
}
