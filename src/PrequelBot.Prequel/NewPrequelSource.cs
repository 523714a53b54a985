using System.Text.Json.Nodes;

namespace PrequelBot.Prequel;

/// <summary>What <c>POST /sources</c> creates. <see cref="Password"/> is a secret: never log or show this record.</summary>
public sealed record NewPrequelSource(string Name, string Host, int Port, string Database, string Schema, string Username, string Password)
{
    /// <summary>Hides the password if the record is ever formatted.</summary>
    public override string ToString() => $"{Name} (postgres, {Host}:{Port}, database {Database}, user {Username})";
}

/// <summary>A source as Prequel lists it; the connection fields are null when Prequel's answer leaves them out.</summary>
public sealed record PrequelSource(string Id, string Name, bool? IsReachable = null, string? Host = null, int? Port = null, string? Database = null, string? Username = null);

/// <summary>Builds the create body for the configured <c>Prequel:ApiVersion</c> (docs/workflow.md and the README step table).</summary>
public static class PrequelSourceBody
{
    public const string Nested = "2023-12-01";
    public const string Flat = "2022-01-01";

    public static JsonObject Build(string apiVersion, NewPrequelSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        JsonObject inner = apiVersion switch
        {
            Nested => new JsonObject
            {
                ["name"] = source.Name,
                ["vendor"] = "postgres",
                ["postgres"] = new JsonObject
                {
                    ["host"] = source.Host,
                    ["port"] = source.Port,
                    ["database"] = source.Database,
                    ["schema"] = source.Schema,
                    ["auth_method"] = "password_auth",
                    ["password_auth"] = new JsonObject { ["username"] = source.Username, ["password"] = source.Password },
                    ["use_ssh_tunnel"] = false,
                    ["disable_ssl"] = false,
                },
            },
            Flat => new JsonObject
            {
                ["name"] = source.Name,
                ["vendor"] = "postgres",
                ["host"] = source.Host,
                ["port"] = source.Port,
                ["database"] = source.Database,
                ["username"] = source.Username,
                ["password"] = source.Password,
            },
            _ => throw new ArgumentOutOfRangeException(nameof(apiVersion), apiVersion, "Unsupported Prequel API version."),
        };
        return new JsonObject { ["source"] = inner };
    }

    /// <summary>
    /// The <c>PATCH /sources/{id}</c> body that changes only the password (docs/workflow.md, "Rotate"): <c>postgres.password_auth.password</c>
    /// for <c>2023-12-01</c>, <c>password</c> for <c>2022-01-01</c>.
    /// </summary>
    public static JsonObject PasswordPatch(string apiVersion, string password) => new()
    {
        ["source"] = apiVersion switch
        {
            Nested => new JsonObject { ["postgres"] = new JsonObject { ["password_auth"] = new JsonObject { ["password"] = password } } },
            Flat => new JsonObject { ["password"] = password },
            _ => throw new ArgumentOutOfRangeException(nameof(apiVersion), apiVersion, "Unsupported Prequel API version."),
        },
    };
}
