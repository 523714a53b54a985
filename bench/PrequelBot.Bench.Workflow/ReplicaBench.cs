namespace PrequelBot.Bench.Workflow;
internal static class ReplicaBench { public static Task<int> RunAsync(Args args) => Task.FromResult(2); }
