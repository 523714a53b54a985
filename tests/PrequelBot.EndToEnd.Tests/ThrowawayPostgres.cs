using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;

namespace PrequelBot.EndToEnd.Tests;

/// <summary>
/// A PostgreSQL cluster of one test (initdb + pg_ctl from the newest /usr/lib/postgresql/*/bin, on a free loopback
/// port, in a temp directory), so the test may really restart it: the shared test cluster serves other test projects
/// in parallel and must never be restarted. As root the server programs run as the <c>postgres</c> OS user through
/// <c>runuser</c>, as scripts/test.sh does. Stopped with <c>-m immediate</c> and deleted in <see cref="DisposeAsync"/>.
/// </summary>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(120);

    private readonly string _bin;
    private readonly string _directory;
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
    private readonly int _port;
    private bool _started;

    private ThrowawayPostgres(string bin, string directory, int port)
    {
        _bin = bin;
        _directory = directory;
        _port = port;
    }

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>The superuser on database <c>postgres</c>, without pooling.</summary>
    public string AdminConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={_port};Username=postgres;Password={_password};Database={database};Pooling=false";

    public static async Task<ThrowawayPostgres> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderBy(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).LastOrDefault()
            ?? throw new InvalidOperationException("No PostgreSQL server binaries under /usr/lib/postgresql/*/bin.");
        var directory = Path.Combine(Path.GetTempPath(), "prequelbot-e2e-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var cluster = new ThrowawayPostgres(bin, directory, FreePort());
        try
        {
            var passwordFile = Path.Combine(directory, "pwfile");
            await File.WriteAllTextAsync(passwordFile, cluster._password + "\n");
            if (Environment.UserName == "root") await RunAsync("chown", ["-R", "postgres:", directory], asPostgres: false);
            await cluster.PgAsync("initdb", "-D", cluster.DataDirectory, "-U", "postgres", "--pwfile=" + passwordFile,
                "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C.UTF-8");
            File.Delete(passwordFile);
            cluster._started = true;
            await cluster.PgCtlAsync("start");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates database <paramref name="name"/> and runs <paramref name="sql"/> in it; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, string? sql = null)
    {
        await using (var admin = NpgsqlDataSource.Create(AdminConnectionString()))
        await using (var create = admin.CreateCommand($"CREATE DATABASE \"{name}\""))
            await create.ExecuteNonQueryAsync();
        var connectionString = AdminConnectionString(name);
        if (sql is not null)
        {
            await using var source = NpgsqlDataSource.Create(connectionString);
            await using var command = source.CreateCommand(sql);
            await command.ExecuteNonQueryAsync();
        }

        return connectionString;
    }

    /// <summary><c>pg_ctl restart -m fast</c>: every session is ended, the server is down for a moment and comes back.</summary>
    public Task RestartAsync() => PgCtlAsync("restart", "-m", "fast");

    private Task PgCtlAsync(string action, params string[] extra) =>
        PgAsync("pg_ctl", ["-D", DataDirectory, "-l", Path.Combine(_directory, "postgres.log"), "-w", "-t", "90",
            "-o", $"-c listen_addresses=127.0.0.1 -c port={_port} -c unix_socket_directories={_directory} -c fsync=off -c max_connections=100",
            action, .. extra]);

    private Task PgAsync(string program, params string[] arguments) => RunAsync(Path.Combine(_bin, program), arguments, asPostgres: Environment.UserName == "root");

    private static async Task RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgres)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program }) start.ArgumentList.Add(argument);
        }

        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(CommandTimeout);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited {process.ExitCode}:\n{await output}\n{await error}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The server log, for failure messages.</summary>
    public string LogTail()
    {
        try { return string.Join('\n', File.ReadLines(Path.Combine(_directory, "postgres.log")).TakeLast(30)); }
        catch (IOException) { return "(no server log)"; }
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            try { await PgCtlAsync("stop", "-m", "immediate"); }
            catch (InvalidOperationException) { }
        }

        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
