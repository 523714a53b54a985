using System.Net;
using System.Net.Sockets;

namespace PrequelBot.Aws.Planning;

/// <summary>One inbound permission of a security group, IPv4 ranges only (group and prefix-list references never count).</summary>
/// <remarks>Protocol is <c>-1</c> (all), <c>tcp</c>/<c>6</c>, …; ports are null or -1 with protocol -1.</remarks>
public sealed record IngressRule(string GroupId, string Protocol, int? FromPort, int? ToPort, IReadOnlyList<string> Cidrs);

/// <summary>The dedicated group <c>prequelbot-&lt;target&gt;</c> as found by its tags: its id, inbound rules, and whether the target has it.</summary>
public sealed record DedicatedGroup(string GroupId, IReadOnlyList<IngressRule> Rules, bool Attached);

/// <summary>What the security-group step will do.</summary>
/// <remarks>
/// <c>ToAdd</c>: static IPs that need a new /32 rule on the rules group, sorted. <c>Covered</c>: for each IP that needs
/// nothing, a sentence naming the rule that admits it. With <c>ChosenGroupId</c> (<c>--security-group</c>) the rules go on
/// that group; otherwise on the dedicated group, created first when <c>CreateGroup</c>, and added to the target's groups
/// (<c>CurrentGroups</c> + it) when <c>Attach</c>.
/// </remarks>
public sealed record SecurityGroupPlan
{
    public required string TargetId { get; init; }
    public required int Port { get; init; }
    public required IReadOnlyList<string> CurrentGroups { get; init; }
    public string? VpcId { get; init; }
    public string? ChosenGroupId { get; init; }
    /// <summary>The dedicated group when it exists already.</summary>
    public string? DedicatedGroupId { get; init; }
    public IReadOnlyList<IPAddress> ToAdd { get; init; } = [];
    public IReadOnlyList<string> Covered { get; init; } = [];
    public bool CreateGroup { get; init; }
    public bool Attach { get; init; }
    /// <summary>For an Aurora member: its cluster, which holds the groups (the dedicated group is added with ModifyDBCluster).</summary>
    public string? Cluster { get; init; }

    public string DedicatedGroupName => SecurityGroupPlanner.DedicatedGroupName(TargetId);

    /// <summary>The group that receives the rules: the chosen one, else the dedicated one (by id once it exists).</summary>
    public string? RulesGroupId => ChosenGroupId ?? DedicatedGroupId;

    public bool HasChanges => ToAdd.Count > 0 || CreateGroup || Attach;

    private string RulesGroupLabel => ChosenGroupId ?? (DedicatedGroupId is { } id ? $"{DedicatedGroupName} ({id})" : DedicatedGroupName);

    /// <summary>The exact changes, in the order they are applied.</summary>
    public IEnumerable<string> ChangeLines
    {
        get
        {
            if (CreateGroup)
            {
                yield return $"create security group {DedicatedGroupName} in {VpcId} (tagged {SecurityGroupPlanner.ManagedByTag}={SecurityGroupPlanner.ManagedByValue}, " +
                             $"{SecurityGroupPlanner.TargetTag}={TargetId}; inbound rules below only, no outbound rules)";
            }
            foreach (var ip in ToAdd)
            {
                yield return $"add inbound TCP {Port} from {ip}/32 to {RulesGroupLabel}";
            }
            if (Attach && Cluster is not null)
            {
                yield return $"add {DedicatedGroupName} to Aurora cluster {Cluster}'s security groups (ModifyDBCluster VpcSecurityGroupIds = " +
                             $"{string.Join(", ", CurrentGroups)} + {DedicatedGroupName}, applied immediately; every instance of the cluster uses them)";
            }
            else if (Attach)
            {
                yield return $"add {DedicatedGroupName} to {TargetId}'s security groups (ModifyDBInstance VpcSecurityGroupIds = " +
                             $"{string.Join(", ", CurrentGroups)} + {DedicatedGroupName}, applied immediately)";
            }
        }
    }

    /// <summary>For the approver: which groups stay as they are.</summary>
    public string Note => ChosenGroupId is { } chosen
        ? $"The rules go on {chosen} (--security-group); every resource that uses {chosen} is opened to these /32 addresses on TCP {Port}."
        : Cluster is not null
            ? $"Aurora cluster {Cluster}'s own groups ({string.Join(", ", CurrentGroups)}) are not changed; {DedicatedGroupName} holds only these /32 rules and, like every group of the cluster, applies to all its instances (only public ones are reachable)."
            : $"{TargetId}'s own groups ({string.Join(", ", CurrentGroups)}) are not changed; {DedicatedGroupName} is used by {TargetId} only.";
}

/// <summary>
/// Decides which static IPs need an inbound rule, and where. Pure. An IP is covered when a permission in any group of
/// the target (groups are additive) allows protocol -1, or TCP with FromPort ≤ port ≤ ToPort, from a CIDR containing the IP.
/// </summary>
public static class SecurityGroupPlanner
{
    public const string ManagedByTag = "managed-by";
    public const string ManagedByValue = "prequelbot";
    public const string TargetTag = "prequelbot:target";

    /// <summary><c>prequelbot-&lt;target&gt;</c>.</summary>
    public static string DedicatedGroupName(string targetId) => "prequelbot-" + targetId;

    /// <param name="targetId">The instance (or, later, cluster) the rules are for.</param>
    /// <param name="vpcId">The target's VPC, where a dedicated group is created.</param>
    /// <param name="port">The database port.</param>
    /// <param name="staticIps">Prequel's static IPs.</param>
    /// <param name="currentGroups">The target's groups now, in AWS's order.</param>
    /// <param name="permissions">The inbound rules of <paramref name="currentGroups"/>.</param>
    /// <param name="chosenGroupId"><c>--security-group</c>; must be one of <paramref name="currentGroups"/>.</param>
    /// <param name="dedicated">The dedicated group found by its tags, if any (ignored with <paramref name="chosenGroupId"/>).</param>
    /// <exception cref="InvalidOperationException">The chosen group is not one of the target's.</exception>
    public static SecurityGroupPlan Plan(string targetId, string? vpcId, int port, IReadOnlyList<IPAddress> staticIps, IReadOnlyList<string> currentGroups,
        IReadOnlyList<IngressRule> permissions, string? chosenGroupId = null, DedicatedGroup? dedicated = null)
    {
        ArgumentNullException.ThrowIfNull(staticIps);
        ArgumentNullException.ThrowIfNull(currentGroups);
        ArgumentNullException.ThrowIfNull(permissions);
        if (chosenGroupId is not null && !currentGroups.Contains(chosenGroupId, StringComparer.Ordinal))
        {
            throw new InvalidOperationException(
                $"{chosenGroupId} is not one of {targetId}'s security groups ({string.Join(", ", currentGroups)}); --security-group must name a group the target already has");
        }
        if (chosenGroupId is not null)
        {
            dedicated = null;
        }
        List<IPAddress> toAdd = [];
        List<string> covered = [];
        var dedicatedNeeded = false;
        foreach (var ip in staticIps.Distinct().OrderBy(ip => ip.ToString(), StringComparer.Ordinal))
        {
            var (rule, cidr) = Covering(permissions, port, ip);
            if (cidr is not null)
            {
                covered.Add($"{rule!.GroupId}: {Describe(rule)} from {cidr} already covers {ip}");
                continue;
            }
            if (dedicated is not null && Covering(dedicated.Rules, port, ip).Cidr is not null)
            {
                covered.Add($"{DedicatedGroupName(targetId)} ({dedicated.GroupId}) already holds a rule for {ip}");
                dedicatedNeeded = true;
                continue;
            }
            toAdd.Add(ip);
            dedicatedNeeded = true;
        }
        var useDedicated = chosenGroupId is null && dedicatedNeeded;
        return new SecurityGroupPlan
        {
            TargetId = targetId,
            VpcId = vpcId,
            Port = port,
            CurrentGroups = currentGroups,
            ChosenGroupId = chosenGroupId,
            DedicatedGroupId = dedicated?.GroupId,
            ToAdd = toAdd,
            Covered = covered,
            CreateGroup = useDedicated && dedicated is null,
            Attach = useDedicated && dedicated is not { Attached: true },
        };
    }

    private static (IngressRule? Rule, string? Cidr) Covering(IReadOnlyList<IngressRule> permissions, int port, IPAddress ip) =>
        permissions.Select(p => (p, CoveringCidr(p, port, ip))).FirstOrDefault(x => x.Item2 is not null);

    private static string? CoveringCidr(IngressRule permission, int port, IPAddress ip)
    {
        var protocol = permission.Protocol.Trim().ToLowerInvariant();
        var protocolMatches = protocol switch
        {
            "-1" or "all" => true,
            "tcp" or "6" => (permission.FromPort ?? -1) <= port && port <= (permission.ToPort ?? -1),
            _ => false,
        };
        if (!protocolMatches)
        {
            return null;
        }
        return permission.Cidrs.FirstOrDefault(c => Cidr.TryParseV4(c, out var network) && network.Contains(ip));
    }

    private static string Describe(IngressRule p) =>
        p.Protocol is "-1" or "all" ? "all traffic" : p.FromPort == p.ToPort ? $"tcp {p.FromPort}" : $"tcp {p.FromPort}-{p.ToPort}";
}

/// <summary>IPv4 CIDR helpers over <see cref="IPNetwork"/>.</summary>
public static class Cidr
{
    public static bool TryParseV4(string? text, out IPNetwork network)
    {
        network = default;
        return text is not null && IPNetwork.TryParse(text.Trim(), out network) && network.BaseAddress.AddressFamily == AddressFamily.InterNetwork;
    }

    /// <summary>True when every address of <paramref name="inner"/> is in <paramref name="outer"/>.</summary>
    public static bool Covers(IPNetwork outer, IPNetwork inner) => outer.PrefixLength <= inner.PrefixLength && outer.Contains(inner.BaseAddress);

    /// <summary>True when the two networks share an address.</summary>
    public static bool Intersects(IPNetwork a, IPNetwork b) => a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress);

    public static IPNetwork Host(IPAddress ip) => new(ip, 32);
}
