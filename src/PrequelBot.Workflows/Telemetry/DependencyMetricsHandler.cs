using System.Diagnostics;

namespace PrequelBot.Workflows.Telemetry;

/// <summary>
/// Counts and times every HTTP call to one outside system (<c>prequelbot.dependency.calls</c>/<c>.duration</c>): a
/// response below 500 (other than 429) is a success; 5xx, 429, a timeout or a transport error is an error. It records
/// only the dependency name and the outcome, never the URL (a <c>response_url</c> or a Socket Mode ticket is a credential).
/// </summary>
public sealed class DependencyMetricsHandler(string dependency) : DelegatingHandler
{
    public string Dependency { get; } = dependency;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var success = false;
        try
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            success = status < 500 && status != 429;
            return response;
        }
        finally
        {
            PrequelBotTelemetry.RecordDependency(Dependency, success, Stopwatch.GetElapsedTime(started));
        }
    }
}
