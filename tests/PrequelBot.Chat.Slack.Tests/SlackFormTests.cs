using Microsoft.AspNetCore.WebUtilities;

namespace PrequelBot.Chat.Slack.Tests;

/// <summary>The fields of inbound requests are read from a body exactly as ASP.NET Core's <see cref="QueryHelpers.ParseQuery(string?)"/> reads it.</summary>
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
    public void Reads_fields_as_ParseQuery(string body)
    {
        var expected = QueryHelpers.ParseQuery(body);
        var request = SlackInboundRequest.FromForm(body);

        // A field is its single non-empty value; missing, empty and repeated fields are null.
        foreach (var (name, values) in expected)
        {
            var single = values.Count == 1 && !string.IsNullOrEmpty(values[0]) ? values[0] : null;
            Assert.Equal(single, request.Field(name));
            Assert.Equal(single, request.Field(name.ToUpperInvariant()));
        }

        Assert.Null(request.Field("not_in_the_form"));
    }

    [Fact]
    public void A_repeated_field_is_null_whatever_the_case_of_its_names()
    {
        var request = SlackInboundRequest.FromForm("User_Id=U1&user_id=U2&text=help");

        Assert.Null(request.Field("user_id"));
        Assert.Equal("help", request.Field("text"));
    }
}
