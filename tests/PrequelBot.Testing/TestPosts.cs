using PrequelBot.Workflows.Ports;

namespace PrequelBot.Testing;

/// <summary>Outbox posts for adapter tests that call the chat port directly (the outbox makes these in the product).</summary>
public static class TestPosts
{
    public static readonly ChatPost Card = new("ob-test1", "card", 1, DateTimeOffset.UtcNow);

    public static readonly ChatPost Prompt = new("ob-test1", "prompt:ap-test1", 2, DateTimeOffset.UtcNow);
}
