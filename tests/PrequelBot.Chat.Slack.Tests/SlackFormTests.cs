using Microsoft.AspNetCore.WebUtilities;

namespace PrequelBot.Chat.Slack.Tests;

/// <summary>The form parser of inbound requests reads a body exactly as ASP.NET Core's <see cref="QueryHelpers.ParseQuery(string?)"/> does.</summary>
public class SlackFormTests
{
    [Theory]
    [InlineData("token=xyz&team_id=T1&user_id=U2&text=status&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fabc")]
    [InlineData("text=connect+mydb+--replica&user_name=road%20runner")]
    [InlineData("text=&user_id=U1&channel_id=")]
    [InlineData("User_Id=U1&user_id=U2&TEXT=help")]
    [InlineData("?text=status&&&user_id=U1&=orphan&novalue")]
    [InlineData("payload=%7B%22type%22%3A%22block_actions%22%7D")]
    [InlineData("text=%E2%9C%93%20%ZZ%2")]
    [InlineData("")]
    public void Parses_as_ParseQuery(string body)
    {
        var expected = QueryHelpers.ParseQuery(body);
        var actual = SlackInboundRequest.ParseForm(body);

        Assert.Equal(expected.Count, actual.Count);
        foreach (var (name, values) in expected)
        {
            Assert.True(actual.TryGetValue(name, out var mine), name);
            Assert.Equal(values.ToArray(), mine.ToArray());
        }
    }
}
