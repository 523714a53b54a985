namespace PrequelBot.Prequel;

/// <summary>Prequel's environment, chosen by the API key prefix (<c>sk_prod_…</c> or <c>sk_staging_…</c>).</summary>
public static class PrequelEnvironment
{
    public const string Production = "production";
    public const string Staging = "staging";
    public const string Unknown = "unknown environment (API key prefix is neither sk_prod_ nor sk_staging_)";

    /// <summary>The environment name; never echoes any part of the key.</summary>
    public static string FromApiKey(string? apiKey) => apiKey switch
    {
        null or "" => "not configured",
        _ when apiKey.StartsWith("sk_prod_", StringComparison.Ordinal) => Production,
        _ when apiKey.StartsWith("sk_staging_", StringComparison.Ordinal) => Staging,
        _ => Unknown,
    };
}
