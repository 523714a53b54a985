using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace PrequelBot.Host;

/// <summary>
/// Hands back, once, the memory that start-up used and no longer needs (docs/operations.md, "Hosting";
/// bench/README.md, "Idle cost"). <see cref="Settle"/> after the host has started: a blocking, compacting, aggressive
/// full GC, which also decommits the GC's free regions, then glibc's <c>malloc_trim(0)</c>, which returns the free
/// pages of the native heaps to the OS (the JIT's scratch memory: freed after each compile, kept by glibc).
/// </summary>
/// <remarks>
/// Both act on the whole process, so the host registers this only when PrequelBot.Host is the entry assembly
/// (<see cref="IsThisProcess"/>), never inside a test runner that hosts it. Memory that later traffic brings in is the
/// runtime's to manage.
/// </remarks>
internal sealed partial class StartupMemoryRelease(IHostApplicationLifetime lifetime, ILogger<StartupMemoryRelease> logger) : BackgroundService
{
    /// <summary>How long after start-up the release runs: past the first reconciler pass and the job servers' start.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(10);

    /// <summary>True when this process is the PrequelBot host itself rather than a process that hosts it (tests).</summary>
    public static bool IsThisProcess => Assembly.GetEntryAssembly() == typeof(StartupMemoryRelease).Assembly;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            try
            {
                await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(Settle, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        var release = Release();
        LogReleased(logger, release.WorkingSetBefore / 1048576.0, release.WorkingSetAfter / 1048576.0, release.NativeHeapTrimmed, release.Took.TotalMilliseconds);
    }

    /// <summary>Runs the collection and the trim now and reports the working set before and after.</summary>
    public static MemoryRelease Release()
    {
        var before = Environment.WorkingSet;
        var started = Stopwatch.GetTimestamp();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var trimmed = GlibcHeap.TryTrim();
        return new MemoryRelease(before, Environment.WorkingSet, trimmed, Stopwatch.GetElapsedTime(started));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Start-up memory released: working set {BeforeMiB:0.0} → {AfterMiB:0.0} MiB in {Milliseconds:0.0} ms (native heap trimmed: {Trimmed})")]
    private static partial void LogReleased(ILogger logger, double beforeMiB, double afterMiB, bool trimmed, double milliseconds);
}

/// <summary>The working set in bytes before and after a <see cref="StartupMemoryRelease.Release"/>, whether glibc's heap was trimmed, and how long both took.</summary>
internal readonly record struct MemoryRelease(long WorkingSetBefore, long WorkingSetAfter, bool NativeHeapTrimmed, TimeSpan Took);

/// <summary>glibc's <c>malloc_trim</c>, where there is one: Linux with glibc (not musl, not macOS or Windows).</summary>
internal static class GlibcHeap
{
    /// <summary>Returns the free memory of every malloc arena to the OS; false where there is no glibc or nothing was released.</summary>
    public static bool TryTrim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return MallocTrim(0) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // glibc's soname; musl has no malloc_trim and no libc.so.6, which the catch above turns into "not trimmed". A
    // blittable signature, so no marshalling code (and no unsafe code in this project) is needed.
    [DllImport("libc.so.6", EntryPoint = "malloc_trim", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
}
