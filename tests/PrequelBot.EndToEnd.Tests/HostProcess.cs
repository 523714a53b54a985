using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// The built host (<c>dotnet PrequelBot.Host.dll</c>) as a separate process on a loopback port chosen by the OS,
/// configured only through <c>Section__Key</c> environment variables. <see cref="Kill"/> is <c>kill -9</c>: no
/// graceful shutdown, no flushing, exactly what a crashed node or an OOM kill looks like.
/// </summary>
public sealed partial class HostProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Set <c>PREQUELBOT_E2E_LOGS</c> to a directory to keep every host's output there (for looking into a slow run that passed).</summary>
    private static readonly string? KeepLogsIn = Environment.GetEnvironmentVariable("PREQUELBOT_E2E_LOGS");

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HostProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    /// <summary>A name for messages (<c>node-a#2</c>).</summary>
    public string Name { get; }

    /// <summary><c>http://127.0.0.1:{port}</c> once started.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public IReadOnlyCollection<string> Output => _output;

    /// <summary>Starts the host and waits until <c>GET /healthz</c> answers 200.</summary>
    public static async Task<HostProcess> StartAsync(string name, IReadOnlyDictionary<string, string> settings, string workingDirectory)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "PrequelBot.Host.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"The built host is missing next to the tests ({dll}); the project reference to PrequelBot.Host copies it.", dll);
        Directory.CreateDirectory(workingDirectory);

        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add("http://127.0.0.1:0");
        // Not from the test run's environment: each host gets exactly the settings the test gives it.
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        start.Environment.Remove("DOTNET_ENVIRONMENT");
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The host says where it listens (Microsoft.Hosting.Lifetime); plain console lines are easier to read in a failure.
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        // Wall-clock times on every line: a stall shows as a gap when a failure prints the tail.
        start.Environment["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ";
        start.Environment["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true";
        foreach (var (key, value) in settings) start.Environment[key] = value;

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var host = new HostProcess(name, process);
        process.OutputDataReceived += (_, e) => host.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => host.OnLine(e.Data);
        process.Exited += (_, _) => host._listening.TrySetException(new InvalidOperationException($"{name} exited during start-up.\n{host.Tail()}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            host.BaseAddress = await host._listening.Task.WaitAsync(StartTimeout);
            await host.WaitHealthyAsync();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <c>kill -9</c> (SIGKILL, sent by <c>/bin/kill</c> so there is no doubt about the signal): no shutdown hook, no
    /// Hangfire re-queue, no flush. Returns when the process is gone.
    /// </summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-KILL", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
            kill?.WaitForExit(30_000);
        }

        if (!_process.WaitForExit(30_000))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(30_000);
        }

        _process.WaitForExit(); // drains the redirected output
    }

    /// <summary>Whether the process ever began a graceful shutdown (it must not have, when it was killed).</summary>
    public bool ShutDownGracefully => _output.Any(line => line.Contains("Application is shutting down", StringComparison.Ordinal));

    /// <summary>The last lines of output, for failure messages.</summary>
    public string Tail(int lines = 60) => $"--- last output of {Name} ---\n" + string.Join('\n', _output.TakeLast(lines));

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        if (KeepLogsIn is { Length: > 0 } keep)
        {
            lock (_output) File.AppendAllText(Path.Combine(keep, $"{Name.Replace('#', '-')}-{_process.Id}.log"), line + "\n");
        }

        if (ListeningOn().Match(line) is { Success: true } match) _listening.TrySetResult(new Uri(match.Groups["url"].Value));
    }

    private async Task WaitHealthyAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited during start-up.\n{Tail()}");
            try
            {
                using var response = await client.GetAsync(new Uri("/healthz", UriKind.Relative));
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // not yet
            }
            catch (TaskCanceledException)
            {
                // slow machine
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Name} did not answer /healthz within {StartTimeout}.\n{Tail()}");
    }

    [GeneratedRegex(@"Now listening on: (?<url>http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningOn();
}
