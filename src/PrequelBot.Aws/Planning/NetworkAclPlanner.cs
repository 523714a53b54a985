using System.Net;

namespace PrequelBot.Aws.Planning;

/// <summary>One entry of a network ACL as AWS lists it (IPv6 entries have a null <see cref="CidrBlock"/>).</summary>
/// <remarks>Protocol is <c>-1</c> (all) or an IANA number as a string (<c>6</c> = TCP); ports are null for protocol -1.</remarks>
public sealed record AclEntry(int RuleNumber, bool Egress, bool Allow, string Protocol, string? CidrBlock, int? FromPort = null, int? ToPort = null);

/// <summary>A rule PrequelBot wants: allow TCP <see cref="FromPort"/>-<see cref="ToPort"/> from/to <see cref="Cidr"/>.</summary>
public sealed record WantedAclRule(bool Egress, IPNetwork Cidr, int FromPort, int ToPort)
{
    public override string ToString() =>
        $"{(Egress ? "outbound" : "inbound")} allow TCP {(FromPort == ToPort ? $"{FromPort}" : $"{FromPort}-{ToPort}")} {(Egress ? "to" : "from")} {Cidr}";
}

/// <summary>A new entry to create; <see cref="OverriddenDeny"/> is the customer deny it takes precedence over for this /32, if any.</summary>
public sealed record PlannedAclEntry(int RuleNumber, WantedAclRule Rule, AclEntry? OverriddenDeny = null)
{
    public string Describe(string aclId) => OverriddenDeny is { } deny
        ? $"add to {aclId} rule {RuleNumber}: {Rule}, ahead of rule {deny.RuleNumber} ({NetworkAclPlanner.Describe(deny)}), which denies it today; only this /32 is affected"
        : $"add to {aclId} rule {RuleNumber}: {Rule}";
}

/// <summary>The entries to create in one ACL, and why the other wanted rules need nothing.</summary>
public sealed record NetworkAclPlan(IReadOnlyList<PlannedAclEntry> ToCreate, IReadOnlyList<string> Covered);

/// <summary>
/// Decides which entries one network ACL needs, and their rule numbers. Pure.
/// </summary>
/// <remarks>
/// Wanted rules are per static IP (a /32), so they are judged per IP the way AWS evaluates an ACL: per direction,
/// entries are walked by ascending rule number, skipping the default <c>*</c> (32767); the first allow that covers the
/// wanted rule (protocol -1/6, ports ⊇ wanted, CIDR ⊇ the IP) means "already in place"; the first deny that matches some
/// of that IP's wanted traffic (protocol -1/6, ports intersect, CIDR contains the IP) blocks it, and the new entry must
/// get a number below that deny. A deny for other addresses never constrains the number: the new entry matches only the
/// /32, so wherever it sits, every other address meets the same entries as before. Partial allows are skipped.
/// Rule order: https://docs.aws.amazon.com/vpc/latest/userguide/nacl-rules.html (docs/aws.md). A new number is the next multiple of 10 above the highest number
/// in use below the limit (100 when none is), stepping by 10 while below the limit; failing that, the highest free number
/// below the limit; failing that, the plan fails. Customer rules are never renumbered or replaced.
/// </remarks>
public static class NetworkAclPlanner
{
    public const int DefaultRuleNumber = 32767;
    public const int MaxRuleNumber = 32766;

    public static NetworkAclPlan Plan(string aclId, IReadOnlyList<AclEntry> entries, IReadOnlyList<WantedAclRule> wanted)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(wanted);
        var working = entries.Where(e => e.RuleNumber is >= 1 and <= MaxRuleNumber).ToList();
        List<PlannedAclEntry> toCreate = [];
        List<string> covered = [];
        foreach (var rule in wanted.OrderBy(r => r.Egress).ThenBy(r => r.Cidr.BaseAddress.ToString(), StringComparer.Ordinal))
        {
            var (coveringRule, limit) = Evaluate(working.Where(e => e.Egress == rule.Egress), rule);
            if (coveringRule is not null)
            {
                covered.Add($"{aclId} rule {coveringRule.RuleNumber} already allows {rule}");
                continue;
            }
            var used = working.Where(e => e.Egress == rule.Egress).Select(e => e.RuleNumber).ToHashSet();
            var number = PickRuleNumber(used, limit)
                ?? throw new InvalidOperationException($"{aclId} has no free {(rule.Egress ? "outbound" : "inbound")} rule number below {limit} for {rule}");
            var deny = limit == DefaultRuleNumber ? null : working.First(e => e.Egress == rule.Egress && e.RuleNumber == limit);
            toCreate.Add(new PlannedAclEntry(number, rule, deny));
            working.Add(new AclEntry(number, rule.Egress, Allow: true, "6", rule.Cidr.ToString(), rule.FromPort, rule.ToPort));
        }
        return new NetworkAclPlan(toCreate, covered);
    }

    /// <summary>The allow entry that already covers <paramref name="rule"/>, or the rule number a new entry must stay below.</summary>
    public static (AclEntry? Covering, int Limit) Evaluate(IEnumerable<AclEntry> directionEntries, WantedAclRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        foreach (var entry in directionEntries.Where(e => e.RuleNumber != DefaultRuleNumber).OrderBy(e => e.RuleNumber))
        {
            if (!Cidr.TryParseV4(entry.CidrBlock, out var network) || !IsTcpOrAll(entry.Protocol))
            {
                continue;
            }
            var all = IsAll(entry.Protocol);
            var from = all ? 0 : entry.FromPort ?? 0;
            var to = all ? 65535 : entry.ToPort ?? 65535;
            if (entry.Allow)
            {
                if (from <= rule.FromPort && rule.ToPort <= to && Cidr.Covers(network, rule.Cidr))
                {
                    return (entry, DefaultRuleNumber);
                }
            }
            else if (from <= rule.ToPort && rule.FromPort <= to && Cidr.Intersects(network, rule.Cidr))
            {
                return (null, entry.RuleNumber);
            }
        }
        return (null, DefaultRuleNumber);
    }

    /// <summary>A free rule number below <paramref name="limit"/>, or null when none is free.</summary>
    public static int? PickRuleNumber(IReadOnlySet<int> used, int limit)
    {
        ArgumentNullException.ThrowIfNull(used);
        var ceiling = Math.Min(limit - 1, MaxRuleNumber);
        var below = used.Where(n => n < limit).ToList();
        var candidate = below.Count == 0 ? 100 : (below.Max() / 10 + 1) * 10;
        if (candidate > ceiling && below.Count == 0)
        {
            candidate = 10;
        }
        for (; candidate <= ceiling; candidate += 10)
        {
            if (!used.Contains(candidate))
            {
                return candidate;
            }
        }
        for (var n = ceiling; n >= 1; n--)
        {
            if (!used.Contains(n))
            {
                return n;
            }
        }
        return null;
    }

    /// <summary>
    /// The entry AWS applies to one TCP packet to (<paramref name="egress"/>) or from <paramref name="ip"/> on
    /// <paramref name="port"/>: the lowest-numbered IPv4 entry that matches it, else null (the default <c>*</c> deny).
    /// </summary>
    public static AclEntry? Decide(IEnumerable<AclEntry> entries, bool egress, IPAddress ip, int port)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries.Where(e => e.Egress == egress && e.RuleNumber != DefaultRuleNumber).OrderBy(e => e.RuleNumber))
        {
            if (!Cidr.TryParseV4(entry.CidrBlock, out var network) || !IsTcpOrAll(entry.Protocol) || !network.Contains(ip))
            {
                continue;
            }
            var all = IsAll(entry.Protocol);
            if (all || ((entry.FromPort ?? 0) <= port && port <= (entry.ToPort ?? 65535)))
            {
                return entry;
            }
        }
        return null;
    }

    /// <summary>"deny all to 198.51.100.0/24", "allow TCP 1024-65535 from 10.0.0.0/8", as a person would read the entry.</summary>
    public static string Describe(AclEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var what = IsAll(entry.Protocol) ? "all"
            : IsTcpOrAll(entry.Protocol) ? (entry.FromPort == entry.ToPort ? $"TCP {entry.FromPort}" : $"TCP {entry.FromPort}-{entry.ToPort}")
            : $"protocol {entry.Protocol}";
        return $"{(entry.Allow ? "allow" : "deny")} {what} {(entry.Egress ? "to" : "from")} {entry.CidrBlock}";
    }

    private static bool IsAll(string protocol) => protocol.Trim() is "-1" or "all";

    private static bool IsTcpOrAll(string protocol) => IsAll(protocol) || protocol.Trim().ToLowerInvariant() is "6" or "tcp";
}
