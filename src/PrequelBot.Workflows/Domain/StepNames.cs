namespace PrequelBot.Workflows.Domain;

/// <summary>
/// Step names (docs/workflow.md, "Steps"). They appear in chat, in settings (<c>Approvals:Steps:&lt;step&gt;</c>) and in
/// job arguments: never rename. Order, approvals and applicability live in the <see cref="StepCatalogue"/>.
/// </summary>
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

    // rotate (docs/workflow.md, "Rotate"); verify-access is shared with connect
    public const string RotatePassword = "rotate-password";
    public const string UpdateSource = "update-source";

    // disconnect (docs/workflow.md, "Disconnect")
    public const string UnregisterSource = "unregister-source";
    public const string DropUser = "drop-user";
    public const string CloseNetworkAcl = "close-network-acl";
    public const string CloseSecurityGroup = "close-security-group";
    public const string RestorePublicAccess = "restore-public-access";
    public const string DeleteReplica = "delete-replica";
}
