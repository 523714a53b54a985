namespace PrequelBot.Workflows.Domain;

/// <summary>What <c>discover</c> (and the replica steps) learned about an RDS instance.</summary>
public sealed record DatabaseFacts
{
    public required string InstanceIdentifier { get; init; }
    public required string Engine { get; init; }
    public string? EngineVersion { get; init; }
    public string? InstanceClass { get; init; }
    public string? Status { get; init; }
    /// <summary>Endpoint host name; null while an instance is still being created.</summary>
    public string? EndpointAddress { get; init; }
    public int Port { get; init; } = 5432;
    public string? VpcId { get; init; }
    /// <summary>VPC security group ids in the order AWS lists them; the first is the one PrequelBot edits.</summary>
    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];
    public string? SubnetGroupName { get; init; }
    public IReadOnlyList<string> SubnetIds { get; init; } = [];
    public bool PubliclyAccessible { get; init; }
    public string? AvailabilityZone { get; init; }
    /// <summary>Name of the database inside the instance (DBName), when AWS reports one.</summary>
    public string? DatabaseName { get; init; }
    /// <summary>Where each subnet of <see cref="SubnetIds"/> sends <c>0.0.0.0/0</c>, as <c>discover</c> read it.</summary>
    public IReadOnlyList<SubnetRoute> SubnetRoutes { get; init; } = [];
    /// <summary>The Aurora cluster this instance is a member of; null for a plain RDS instance.</summary>
    public string? ClusterIdentifier { get; init; }
}

/// <summary>An Aurora cluster as <c>discover</c> read it (DescribeDBClusters).</summary>
public sealed record ClusterFacts
{
    public required string Identifier { get; init; }
    public string? WriterInstanceIdentifier { get; init; }
    public IReadOnlyList<string> ReaderInstanceIdentifiers { get; init; } = [];
    /// <summary>The cluster (writer) endpoint; shown, never given to Prequel.</summary>
    public string? Endpoint { get; init; }
    /// <summary>The cluster reader endpoint; shown, never given to Prequel (it balances over every reader, private ones included).</summary>
    public string? ReaderEndpoint { get; init; }
    public int Port { get; init; } = 5432;
    /// <summary>The cluster's VPC security groups (its members use these).</summary>
    public IReadOnlyList<string> SecurityGroupIds { get; init; } = [];
    public string? SubnetGroupName { get; init; }
}

/// <summary>
/// The default route of one subnet: its route table (the explicit association, else the VPC's main table) and the
/// target of its <c>0.0.0.0/0</c> route (<c>igw-…</c>, <c>nat-…</c>, …; null when it has none).
/// </summary>
public sealed record SubnetRoute
{
    public required string SubnetId { get; init; }
    public string? RouteTableId { get; init; }
    /// <summary>True when the subnet has no explicit association and uses the VPC's main route table.</summary>
    public bool MainTable { get; init; }
    public string? DefaultRouteTarget { get; init; }
    /// <summary>True when the route's state is <c>blackhole</c> (its target is gone).</summary>
    public bool Blackhole { get; init; }
}

/// <summary>A DB subnet group as <c>discover</c> read it (the <c>--replica-subnet-group</c> a replica is placed in).</summary>
public sealed record SubnetGroupFacts
{
    public required string Name { get; init; }
    public string? VpcId { get; init; }
    public IReadOnlyList<string> SubnetIds { get; init; } = [];
    public IReadOnlyList<SubnetRoute> SubnetRoutes { get; init; } = [];
}

/// <summary>
/// Facts accumulated by steps and persisted with the onboarding. Steps read what earlier steps wrote
/// and write what later steps need. The engine saves changes only when a step's apply succeeds or waits.
/// Never holds a secret: passwords go to <see cref="Ports.ISecretStore"/>.
/// </summary>
public sealed class OnboardingFacts
{
    /// <summary>The instance named by the user (the writer): where the read-only user is created.</summary>
    public DatabaseFacts? Source { get; set; }

    /// <summary>The instance Prequel connects to: the replica with <c>--replica</c>, else the source.</summary>
    public DatabaseFacts? Target { get; set; }

    /// <summary>With <c>--replica-subnet-group</c>: that group, read by <c>discover</c>; the replica is created in it.</summary>
    public SubnetGroupFacts? ReplicaSubnetGroup { get; set; }

    /// <summary>For Aurora: the cluster of <see cref="Source"/> (the writer), read by <c>discover</c>.</summary>
    public ClusterFacts? Cluster { get; set; }

    /// <summary>The Prequel source id after <c>register-source</c>.</summary>
    public string? PrequelSourceId { get; set; }

    /// <summary>What this onboarding's steps created or changed (<see cref="ChangeRecord"/>); for <c>disconnect</c>, what it undoes.</summary>
    public ChangeRecord Changes { get; set; } = new();

    /// <summary>Small step-owned values (e.g. <c>"create-user:password-set" = "true"</c>); no secrets.</summary>
    public Dictionary<string, string> Values { get; set; } = new(StringComparer.Ordinal);

    public OnboardingFacts Clone() => new()
    {
        Source = Source,
        Target = Target,
        ReplicaSubnetGroup = ReplicaSubnetGroup,
        Cluster = Cluster,
        PrequelSourceId = PrequelSourceId,
        Changes = Changes.Clone(),
        Values = new Dictionary<string, string>(Values, StringComparer.Ordinal),
    };
}

/// <summary>Keys of <see cref="OnboardingFacts.Values"/> that one step writes and another reads.</summary>
public static class FactKeys
{
    /// <summary>Written by <c>create-user</c> when it set a (new or rotated) password on the role in this onboarding; value = role name.</summary>
    public const string UserPasswordSet = "create-user:password-set";

    /// <summary>On a <c>disconnect</c>: the id of the latest completed <c>connect</c> it undoes.</summary>
    public const string DisconnectOf = "disconnect:of";

    /// <summary>On a <c>rotate</c>: the id of the latest completed <c>connect</c> whose role and source it rotates.</summary>
    public const string RotateOf = "rotate:of";
}
