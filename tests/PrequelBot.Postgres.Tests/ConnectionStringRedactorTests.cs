namespace PrequelBot.Postgres.Tests;

public sealed class ConnectionStringRedactorTests
{
    [Fact]
    public void Redacted_connection_string_keeps_the_host_and_drops_the_password()
    {
        var redacted = ConnectionStringRedactor.Redact("Host=db.example.internal;Port=5433;Username=admin;Password=hunter2secret;Database=app");

        Assert.Contains("db.example.internal", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2secret", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Description_is_host_port_and_database()
    {
        Assert.Equal("db.example.internal:5433/app", ConnectionStringRedactor.Describe("Host=db.example.internal;Port=5433;Password=x;Database=app"));
    }
}
