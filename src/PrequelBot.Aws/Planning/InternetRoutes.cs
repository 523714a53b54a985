using PrequelBot.Workflows.Domain;

namespace PrequelBot.Aws.Planning;

/// <summary>
/// Whether a DB subnet group can hold a publicly accessible instance that the internet can reach: at least one subnet
/// must route <c>0.0.0.0/0</c> to an internet gateway (<c>igw-…</c>, not a blackhole). A NAT gateway only carries
/// traffic out; a public flag in such subnets gives an address nothing can reach (docs/aws.md). Pure.
/// </summary>
public static class InternetRoutes
{
    public static bool ReachesInternet(SubnetRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        return !route.Blackhole && route.DefaultRouteTarget?.StartsWith("igw-", StringComparison.Ordinal) == true;
    }

    /// <summary>"subnet-a → igw-1 (rtb-1), subnet-b → nat-2 (main table rtb-2)".</summary>
    public static string Describe(IReadOnlyList<SubnetRoute> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        return routes.Count == 0 ? "no subnets" : string.Join(", ", routes.Select(Describe));
    }

    public static string Describe(SubnetRoute route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var target = route.DefaultRouteTarget is null ? "no 0.0.0.0/0 route" : route.DefaultRouteTarget + (route.Blackhole ? " (blackhole)" : "");
        var table = route.RouteTableId is null ? "no route table" : route.MainTable ? $"main table {route.RouteTableId}" : route.RouteTableId;
        return $"{route.SubnetId} → {target} ({table})";
    }

    /// <summary>
    /// Null when some subnet reaches an internet gateway; otherwise why a public instance in <paramref name="subnetGroup"/>
    /// would be unreachable, naming every subnet and its route target.
    /// </summary>
    /// <param name="instance">The instance that would be public, for the message.</param>
    /// <param name="subnetGroup">Its DB subnet group, for the message.</param>
    /// <param name="vpcId">Its VPC, for the message.</param>
    /// <param name="routes">The default route of every subnet of the group.</param>
    /// <param name="cluster">For an Aurora instance, its cluster: its instances stay in the cluster's DB subnet group, so the advice differs.</param>
    public static string? Problem(string instance, string? subnetGroup, string? vpcId, IReadOnlyList<SubnetRoute> routes, string? cluster = null)
    {
        ArgumentNullException.ThrowIfNull(routes);
        if (routes.Any(ReachesInternet))
        {
            return null;
        }
        var advice = cluster is null
            ? $"Use --replica with --replica-subnet-group <a DB subnet group in {vpcId ?? "the same VPC"} whose subnets route to an internet gateway>, or add such a route"
            : $"Aurora cluster {cluster}'s instances stay in its DB subnet group: add a subnet of {vpcId ?? "its VPC"} that routes to an internet gateway to that group, or add such a route";
        return $"{instance} would not be reachable from the internet: no subnet of DB subnet group {subnetGroup ?? "(none)"} routes 0.0.0.0/0 to an internet gateway " +
               $"({Describe(routes)}). Nothing was changed. {advice}, then retry.";
    }

    /// <summary>A warning when only some subnets reach the internet (RDS may move the instance into another subnet of the group, e.g. on failover); else null.</summary>
    public static string? PartialWarning(IReadOnlyList<SubnetRoute> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        var without = routes.Where(r => !ReachesInternet(r)).Select(r => r.SubnetId).ToList();
        return without.Count == 0 || without.Count == routes.Count
            ? null
            : $"{string.Join(", ", without)} {(without.Count == 1 ? "has" : "have")} no internet gateway route: if RDS moves the instance there (e.g. on a Multi-AZ failover) Prequel cannot reach it.";
    }
}
