using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace PrequelBot.Host.Tests;

/// <summary>
/// The one-off release of start-up memory (docs/operations.md, "Hosting"). It collects the whole process, so it runs
/// with the other host tests, one at a time.
/// </summary>
[Collection(HostTestGroup.Name)]
public sealed class StartupMemoryReleaseTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public void Release_decommits_what_the_garbage_collector_freed()
    {
        var whileAlive = CommittedWith128MiBAlive();
        Assert.True(whileAlive >= 128L * MiB, $"committed {whileAlive / MiB} MiB with 128 MiB alive");

        var release = StartupMemoryRelease.Release();

        var afterRelease = GC.GetGCMemoryInfo(GCKind.FullBlocking).TotalCommittedBytes;
        Assert.True(afterRelease < whileAlive - 64L * MiB, $"committed {whileAlive / MiB} MiB before, {afterRelease / MiB} MiB after the release");
        Assert.True(release.WorkingSetBefore > 0 && release.WorkingSetAfter > 0);
    }

    /// <summary>Not inlined, so that no stack slot of the test keeps the blocks alive once it returns.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long CommittedWith128MiBAlive()
    {
        var blocks = new byte[128][];
        for (var i = 0; i < blocks.Length; i++)
        {
            blocks[i] = new byte[MiB];
            Array.Fill(blocks[i], (byte)i); // touched, so committed and resident
        }
        GC.Collect();
        GC.KeepAlive(blocks);
        return GC.GetGCMemoryInfo().TotalCommittedBytes;
    }

    [Fact]
    public void The_native_trim_is_glibc_malloc_trim_where_there_is_glibc()
    {
        var glibc = OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "malloc_trim", out _);
        if (!glibc)
        {
            Assert.False(GlibcHeap.TryTrim());
            return;
        }
        // Free some native memory so that there is something to give back, then trim: 1 from malloc_trim means pages went back.
        var blocks = Enumerable.Range(0, 256).Select(_ => Marshal.AllocHGlobal(64 * 1024)).ToList(); // below the mmap threshold: from the heap
        foreach (var block in blocks) Marshal.FreeHGlobal(block);
        Assert.True(GlibcHeap.TryTrim());
    }

    [Fact]
    public void Inside_a_process_that_hosts_the_bot_nothing_is_registered()
    {
        Assert.False(StartupMemoryRelease.IsThisProcess); // the entry assembly is the test runner
        var services = new ServiceCollection().AddStartupMemoryRelease();
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IHostedService));
    }
}
