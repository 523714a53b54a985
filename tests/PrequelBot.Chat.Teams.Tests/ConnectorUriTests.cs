namespace PrequelBot.Chat.Teams.Tests;

public sealed class ConnectorUriTests
{
    [Theory]
    [InlineData("https://smba.trafficmanager.net/amer", "https://smba.trafficmanager.net/amer/v3/conversations/")]
    [InlineData("https://smba.trafficmanager.net/amer/", "https://smba.trafficmanager.net/amer/v3/conversations/")]
    [InlineData("https://smba.trafficmanager.net/teams/", "https://smba.trafficmanager.net/teams/v3/conversations/")]
    public void Service_url_path_is_kept_with_or_without_a_trailing_slash(string serviceUrl, string expectedPrefix)
    {
        var uri = ConnectorClient.ActivitiesUri(serviceUrl, "a:1", null);

        Assert.StartsWith(expectedPrefix, uri.AbsoluteUri, StringComparison.Ordinal);
    }

    [Fact]
    public void Conversation_and_activity_ids_are_escaped_as_one_segment_each()
    {
        var uri = ConnectorClient.ActivitiesUri("https://smba.trafficmanager.net/amer/", "19:abc@thread.skype;messageid=1498171086622", "1/2?x");

        Assert.Equal("/amer/v3/conversations/19%3Aabc%40thread.skype%3Bmessageid%3D1498171086622/activities/1%2F2%3Fx", uri.AbsolutePath);
    }

    [Theory]
    [InlineData("")]
    [InlineData("smba.trafficmanager.net/amer")]
    [InlineData("file:///etc/passwd")]
    public void Unusable_service_url_is_refused(string serviceUrl)
    {
        Assert.Throws<InvalidOperationException>(() => ConnectorClient.ActivitiesUri(serviceUrl, "a:1", null));
    }
}
