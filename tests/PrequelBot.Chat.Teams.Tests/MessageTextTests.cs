using System.Text.Json;

namespace PrequelBot.Chat.Teams.Tests;

public sealed class MessageTextTests
{
    private static Activity Message(string text, string? mentionText = "<at>PrequelBot</at>", string mentionedId = "28:bot") =>
        JsonSerializer.Deserialize<Activity>($$$"""
            {"type":"message","text":{{{JsonSerializer.Serialize(text)}}},"recipient":{"id":"28:bot"},
             "entities":[{"type":"mention","text":{{{JsonSerializer.Serialize(mentionText)}}},"mentioned":{"id":"{{{mentionedId}}}"}},{"type":"clientInfo","locale":"en-US"}]}
            """, TeamsJson.Options)!;

    [Theory]
    [InlineData("<at>PrequelBot</at> connect orders --replica", "connect orders --replica")]
    [InlineData("<at>PrequelBot</at>&nbsp;status", "status")]
    [InlineData("  help  ", "help")]
    [InlineData("plan orders --tables public.a&amp;b", "plan orders --tables public.a&b")]
    public void Bot_mention_and_entities_are_removed(string text, string expected)
    {
        Assert.Equal(expected, MessageText.ToCommandText(Message(text)));
    }

    [Fact]
    public void Mention_of_someone_else_in_the_middle_is_kept()
    {
        var activity = Message("status <at>Megan</at>", mentionText: "<at>Megan</at>", mentionedId: "29:megan");

        Assert.Equal("status <at>Megan</at>", MessageText.ToCommandText(activity));
    }
}
