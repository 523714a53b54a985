using System.Net;
using System.Net.Sockets;

namespace PrequelBot.Aws.Planning;

/// <summary>One inbound permission of a security group, IPv4 ranges only (group and prefix-list references never count).</summary>
/// <remarks>Protocol is <c>-1</c> (all), <c>tcp</c>/<c>6</c>, …; ports are null or -1 with protocol -1.</remarks>
public sealed record IngressRule(string GroupId, string Protocol, int? FromPort, int? ToPort, IReadOnlyList<string> Cidrs);

/// <summary>What the security-group step will do.</summary>
/// <remarks><c>ToAdd</c>: static IPs that need a new /32 rule on <c>GroupId</c>, sorted. <c>Covered</c>: for each covered IP, a sentence naming the rule that covers it.</remarks>
public sealed record SecurityGroupPlan(string GroupId, int Port, IReadOnlyList<IPAddress> ToAdd, IReadOnlyList<string> Covered)
{
    public IEnumerable<string> ChangeLines => ToAdd.Select(ip => $"add inbound TCP {Port} from {ip}/32 to {GroupId}");
}

/// <summary>
/// Decides which static IPs need an inbound rule. Pure. An IP is covered when a permission in any attached group
/// (groups are additive) allows protocol -1, or TCP with FromPort ≤ port ≤ ToPort, from a CIDR containing the IP.
/// </summary>
public static class SecurityGroupPlanner
{
    public static SecurityGroupPlan Plan(string firstGroupId, int port, IReadOnlyList<IPAddress> staticIps, IReadOnlyList<IngressRule> permissions)
    {
        ArgumentNullException.ThrowIfNull(staticIps);
        ArgumentNullException.ThrowIfNull(permissions);
        List<IPAddress> toAdd = [];
        List<string> covered = [];
        foreach (var ip in staticIps.Distinct().OrderBy(ip => ip.ToString(), StringComparer.Ordinal))
        {
            var rule = permissions.Select(p => (p, cidr: CoveringCidr(p, port, ip))).FirstOrDefault(x => x.cidr is not null);
            if (rule.cidr is null)
            {
                toAdd.Add(ip);
            }
            else
            {
                covered.Add($"{rule.p.GroupId}: {Describe(rule.p)} from {rule.cidr} already covers {ip}");
            }
        }
        return new SecurityGroupPlan(firstGroupId, port, toAdd, covered);
    }

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
