namespace PrequelBot.Bench.Workflow;
internal static class IdleBench { public static Task<int> RunAsync(Args args) => Task.FromResult(2); }
