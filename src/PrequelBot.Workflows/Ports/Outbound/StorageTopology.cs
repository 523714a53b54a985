namespace PrequelBot.Workflows.Ports;

/// <summary>What the configured storage guarantees, as the reconciler needs to know it.</summary>
/// <param name="SingleNode">Only this process uses the state store (SQLite): leases left by a previous run are void at start-up.</param>
/// <param name="VolatileJobQueue">Hangfire's queue does not survive a restart (InMemory): every runnable step must be re-enqueued at start-up.</param>
public sealed record StorageTopology(bool SingleNode, bool VolatileJobQueue);
