using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;

namespace PrequelBot.Postgres.Tests;

public sealed class ConnectionFailureClassifierTests
{
    private static string? Classify(Exception e) => ConnectionFailureClassifier.Classify(e, "db.internal", 5432, "app", "prequel_reader");

    [Fact]
    public void Unknown_host_is_explained_as_dns()
    {
        var message = Classify(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.HostNotFound)));

        Assert.Equal("Host db.internal could not be found (DNS): the endpoint may not be published yet.", message);
    }

    [Fact]
    public void Timeout_points_at_the_network_path()
    {
        var message = Classify(new NpgsqlException("Exception while connecting", new TimeoutException()));

        Assert.StartsWith("Timed out connecting to db.internal:5432: check the security group, the network ACL", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tls_failure_is_explained_as_ssl()
    {
        var message = Classify(new NpgsqlException("Exception while connecting", new AuthenticationException("remote certificate invalid")));

        Assert.StartsWith("SSL/TLS negotiation with db.internal:5432 failed", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unrelated_exception_is_not_classified()
    {
        Assert.Null(Classify(new InvalidOperationException("boom")));
    }
}
