using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;

namespace PrequelBot.Postgres;

/// <summary>
/// Turns a failure to connect into one plain sentence for chat. The message names host, port, database and
/// user only; it never contains a password or a connection string.
/// </summary>
public static class ConnectionFailureClassifier
{
    /// <summary>A plain explanation, or null when <paramref name="exception"/> is not a connection failure.</summary>
    public static string? Classify(Exception exception, string host, int port, string database, string user)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var where = $"{host}:{port}";
        if (exception is PostgresException pg)
        {
            return pg.SqlState switch
            {
                PostgresErrorCodes.InvalidPassword => $"Password authentication failed for user {user} on {where}.",
                PostgresErrorCodes.InvalidAuthorizationSpecification =>
                    $"The server at {where} refused user {user} (pg_hba.conf has no entry for it, or SSL is required).",
                PostgresErrorCodes.InvalidCatalogName => $"Database {database} does not exist on {where}.",
                PostgresErrorCodes.TooManyConnections => $"The server at {where} has too many connections.",
                PostgresErrorCodes.CannotConnectNow => $"The server at {where} is starting up; try again shortly.",
                _ => null,
            };
        }
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case TimeoutException:
                    return $"Timed out connecting to {where}: check the security group, the network ACL (return ports 1024-65535), public access and the route to an internet gateway.";
                case SocketException { SocketErrorCode: SocketError.TimedOut }:
                    return $"Timed out connecting to {where}: check the security group, the network ACL (return ports 1024-65535), public access and the route to an internet gateway.";
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return $"Connection refused by {where}: nothing listens on that port (wrong port?).";
                case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                    return $"Host {host} could not be found (DNS): the endpoint may not be published yet.";
                case AuthenticationException:
                    return $"SSL/TLS negotiation with {where} failed: check SslMode and the server certificate.";
            }
        }
        if (exception is NpgsqlException && exception.Message.Contains("SSL", StringComparison.OrdinalIgnoreCase))
        {
            return $"SSL/TLS negotiation with {where} failed: check SslMode and the server certificate.";
        }
        return exception is NpgsqlException ? $"Could not connect to {where} as {user}." : null;
    }
}
