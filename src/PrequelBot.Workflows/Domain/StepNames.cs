namespace PrequelBot.Workflows.Domain;

/// <summary>The workflow's step names, in order (CONTRACT §6). They appear in chat and in job arguments: never rename.</summary>
public static class StepNames
{
    public const string Discover = "discover";
    public const string CreateReplica = "create-replica";
    public const string WaitReplica = "wait-replica";
    public const string PublicAccess = "public-access";
    public const string SecurityGroup = "security-group";
    public const string NetworkAcl = "network-acl";
    public const string CreateUser = "create-user";
    public const string VerifyAccess = "verify-access";
    public const string RegisterSource = "register-source";

    /// <summary>Every step in execution order.</summary>
    public static readonly IReadOnlyList<string> All =
        [Discover, CreateReplica, WaitReplica, PublicAccess, SecurityGroup, NetworkAcl, CreateUser, VerifyAccess, RegisterSource];

    /// <summary>Steps that change something and therefore ask an approver first (when their plan is not empty).</summary>
    public static bool RequiresApproval(string step) =>
        step is CreateReplica or PublicAccess or SecurityGroup or NetworkAcl or CreateUser or RegisterSource;

    /// <summary>The steps an onboarding runs: the replica steps only with <c>--replica</c>.</summary>
    public static IReadOnlyList<string> For(bool replica) =>
        replica ? All : [.. All.Where(s => s is not CreateReplica and not WaitReplica)];

    public static bool IsKnown(string step) => All.Contains(step, StringComparer.Ordinal);
}
