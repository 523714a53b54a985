namespace PrequelBot.Workflows.Domain;

/// <summary>One inbound rule this bot added to a security group: TCP <see cref="Port"/> from <see cref="Cidr"/>.</summary>
/// <param name="GroupId">The group that holds the rule (the dedicated group, or the one named by <c>--security-group</c>).</param>
/// <param name="Cidr">The source range, always a static IP /32.</param>
/// <param name="Port">The database port.</param>
public sealed record RecordedRule(string GroupId, string Cidr, int Port);

/// <summary>One network ACL entry this bot created: found again by its ACL, number and direction.</summary>
public sealed record RecordedAclEntry(string AclId, int RuleNumber, bool Egress, string Cidr, int FromPort, int ToPort)
{
    public string Direction => Egress ? "outbound" : "inbound";

    public override string ToString() => $"{AclId} {Direction} rule {RuleNumber} (allow TCP {FromPort}{(FromPort == ToPort ? "" : $"-{ToPort}")} {(Egress ? "to" : "from")} {Cidr})";
}

/// <summary>
/// What the steps of an onboarding created or changed (docs/workflow.md, "The change record"): written by each step when
/// it applies, saved with the onboarding's facts, and read by <c>disconnect</c>. A step that finds its own resource again
/// after a crash (by tag, marker, rule number or name) records it then. Never holds a secret.
/// </summary>
public sealed class ChangeRecord
{
    /// <summary>The read replica (or Aurora reader) this bot created, tagged <c>managed-by=prequelbot</c>.</summary>
    public string? ReplicaId { get; set; }

    /// <summary>The dedicated group <c>prequelbot-&lt;target&gt;</c> this bot created (found again by its tags).</summary>
    public string? DedicatedGroupId { get; set; }

    /// <summary>The instance (or Aurora cluster) whose group list this bot extended with <see cref="DedicatedGroupId"/>.</summary>
    public string? GroupAttachedTo { get; set; }

    /// <summary>True when <see cref="GroupAttachedTo"/> names an Aurora cluster (ModifyDBCluster) rather than an instance.</summary>
    public bool GroupAttachedToCluster { get; set; }

    /// <summary>Inbound rules this bot added (on the dedicated group, or on the <c>--security-group</c> group).</summary>
    public List<RecordedRule> Rules { get; set; } = [];

    /// <summary>Network ACL entries this bot created.</summary>
    public List<RecordedAclEntry> AclEntries { get; set; } = [];

    /// <summary>The read-only role the onboarding used.</summary>
    public string? RoleName { get; set; }

    /// <summary>Whether this bot created <see cref="RoleName"/> (its marker comment says so); a reused plain role is false.</summary>
    public bool RoleCreated { get; set; }

    /// <summary>The Prequel source the onboarding used.</summary>
    public string? PrequelSourceId { get; set; }

    /// <summary>Whether this bot created <see cref="PrequelSourceId"/>; a source found by name is false.</summary>
    public bool SourceCreated { get; set; }

    /// <summary>The instance whose public flag this bot turned on; null when it changed no flag.</summary>
    public string? PublicFlagChangedOn { get; set; }

    /// <summary>The public flag of <see cref="PublicFlagChangedOn"/> before this bot changed it.</summary>
    public bool? PreviousPublicFlag { get; set; }

    /// <summary>True when nothing is recorded.</summary>
    public bool IsEmpty => ReplicaId is null && DedicatedGroupId is null && Rules.Count == 0 && AclEntries.Count == 0 &&
        RoleName is null && PrequelSourceId is null && PublicFlagChangedOn is null;

    public void AddRule(RecordedRule rule)
    {
        if (!Rules.Contains(rule)) Rules.Add(rule);
    }

    public void AddAclEntry(RecordedAclEntry entry)
    {
        if (!AclEntries.Contains(entry)) AclEntries.Add(entry);
    }

    /// <summary>Records the role; once this bot is known to have created it, it stays so.</summary>
    public void SetRole(string name, bool created)
    {
        if (RoleName != name) RoleCreated = false;
        RoleName = name;
        RoleCreated |= created;
    }

    /// <summary>Records the source; once this bot is known to have created it, it stays so.</summary>
    public void SetSource(string id, bool created)
    {
        if (PrequelSourceId != id) SourceCreated = false;
        PrequelSourceId = id;
        SourceCreated |= created;
    }

    /// <summary>Records that this bot changed the public flag of <paramref name="instance"/> from <paramref name="previous"/>; the first value recorded wins.</summary>
    public void SetPublicFlagChanged(string instance, bool previous)
    {
        if (PublicFlagChangedOn == instance) return;
        PublicFlagChangedOn = instance;
        PreviousPublicFlag = previous;
    }

    /// <summary>
    /// Adds what a later onboarding of the same database recorded (a second <c>connect</c>): the union, where "this bot
    /// created it" stays true once recorded, and the earliest previous public flag is kept.
    /// </summary>
    public void Merge(ChangeRecord later)
    {
        ArgumentNullException.ThrowIfNull(later);
        ReplicaId ??= later.ReplicaId;
        if (DedicatedGroupId is null)
        {
            DedicatedGroupId = later.DedicatedGroupId;
            GroupAttachedTo = later.GroupAttachedTo;
            GroupAttachedToCluster = later.GroupAttachedToCluster;
        }
        foreach (var rule in later.Rules) AddRule(rule);
        foreach (var entry in later.AclEntries) AddAclEntry(entry);
        if (later.RoleName is { } role) SetRole(role, later.RoleCreated || (RoleName == role && RoleCreated));
        if (later.PrequelSourceId is { } source) SetSource(source, later.SourceCreated || (PrequelSourceId == source && SourceCreated));
        if (later.PublicFlagChangedOn is { } instance && PublicFlagChangedOn is null) SetPublicFlagChanged(instance, later.PreviousPublicFlag ?? false);
    }

    public ChangeRecord Clone() => new()
    {
        ReplicaId = ReplicaId,
        DedicatedGroupId = DedicatedGroupId,
        GroupAttachedTo = GroupAttachedTo,
        GroupAttachedToCluster = GroupAttachedToCluster,
        Rules = [.. Rules],
        AclEntries = [.. AclEntries],
        RoleName = RoleName,
        RoleCreated = RoleCreated,
        PrequelSourceId = PrequelSourceId,
        SourceCreated = SourceCreated,
        PublicFlagChangedOn = PublicFlagChangedOn,
        PreviousPublicFlag = PreviousPublicFlag,
    };
}
