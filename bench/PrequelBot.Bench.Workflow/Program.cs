// Workflow benchmarks: click → step running (SQLite/in-memory and PostgreSQL across two processes), 1,000 onboardings
// waiting on replicas, idle cost / start-up time of the built host, losing a node mid-step, and 200 onboardings in a
// minute on two nodes. Loopback only; every mode is bounded in time.
// See bench/README.md.
namespace PrequelBot.Bench.Workflow;

internal static class WorkflowBench
{
    public static async Task<int> Main(string[] args)
    {
        var options = new Args(args);
        switch (args.FirstOrDefault())
        {
            case "click": return await ClickBench.RunAsync(options);
            case "node": return await NodeProcess.RunNodeAsync(options);
            case "replicas": return await ReplicaBench.RunAsync(options);
            case "idle": return await IdleBench.RunAsync(options);
            case "kill": return await KillBench.RunAsync(options);
            case "scale": return await ScaleBench.RunAsync(options);
            default:
                Console.Error.WriteLine("usage: click [--storage sqlite|postgres] [--samples 200] [--onboardings 50] [--approvals-on-a] [--max-seconds 600]\n" +
                                        "       replicas [--onboardings 1000] [--probes 20] [--steady-seconds 60] [--max-seconds 900]\n" +
                                        "       idle [--storage sqlite|postgres|both] [--starts 5] [--idle-seconds 30] [--cpu-seconds 60]\n" +
                                        "       kill [--slow-step network-acl] [--slow-ms 4000] [--kill-after-ms 2000] [--rounds 1]\n" +
                                        "       scale [--onboardings 200] [--start-seconds 60] [--warmup 1] [--max-seconds 600] [--slow-step name --slow-ms 4000] [--pg-statements]");
                return 2;
        }
    }
}
