namespace PrequelBot.Commands;

/// <summary>The one-line usage of each command, as quoted in errors, and the command words themselves.</summary>
internal static class CommandUsage
{
    public const string Connect = "connect";
    public const string Plan = "plan";
    public const string Status = "status";
    public const string Cancel = "cancel";
    public const string Retry = "retry";
    public const string Rotate = "rotate";
    public const string Disconnect = "disconnect";
    public const string Check = "check";
    public const string Audit = "audit";
    public const string Help = "help";

    public const string KeepReplica = "--keep-replica";
    public const string FinalSnapshot = "--final-snapshot";

    public static readonly string[] Commands = [Connect, Plan, Status, Cancel, Retry, Rotate, Disconnect, Check, Audit, Help];

    private const string OnboardingOptionsUsage =
        "[--replica] [--replica-class <class>] [--replica-id <id>] [--replica-subnet-group <name>] [--schemas <s1,s2>] "
        + "[--tables <schema.table,...>] [--user <name>] [--source-name <name>] [--security-group <sg-id>] [--reader <instance-id>]";

    public static string For(string command) => command switch
    {
        Connect => $"connect <db> {OnboardingOptionsUsage}",
        Plan => $"plan <db> {OnboardingOptionsUsage}",
        Status => "status [<onboarding-id>]",
        Cancel => "cancel <onboarding-id>",
        Retry => "retry <onboarding-id>",
        Rotate => "rotate <db>",
        Disconnect => $"disconnect <db> [{KeepReplica} | {FinalSnapshot}]",
        Check => "check <db>",
        Audit => "audit <onboarding-id>",
        _ => "help",
    };
}
