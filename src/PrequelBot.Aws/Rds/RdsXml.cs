using System.Globalization;
using System.Xml.Linq;

namespace PrequelBot.Aws.Rds;

/// <summary>Reads RDS Query API result elements (namespaced; matched by local name).</summary>
public static class RdsXml
{
    /// <summary>Every <c>DBInstance</c> under a <c>DescribeDBInstancesResult</c>.</summary>
    public static IReadOnlyList<RdsDbInstance> ParseDescribeDBInstances(XElement result) =>
        [.. Child(result, "DBInstances")?.Elements().Where(e => e.Name.LocalName == "DBInstance").Select(ParseInstance) ?? []];

    /// <summary>The <c>DBInstance</c> of a Create…/Modify… result.</summary>
    public static RdsDbInstance ParseSingleInstance(XElement result) =>
        ParseInstance(Child(result, "DBInstance") ?? throw new FormatException("RDS answered without a DBInstance element"));

    /// <summary>Every <c>DBSubnetGroup</c> under a <c>DescribeDBSubnetGroupsResult</c>.</summary>
    public static IReadOnlyList<RdsDbSubnetGroup> ParseDescribeDBSubnetGroups(XElement result) =>
        [.. Child(result, "DBSubnetGroups")?.Elements().Where(e => e.Name.LocalName == "DBSubnetGroup").Select(ParseSubnetGroup) ?? []];

    /// <summary>Every <c>DBCluster</c> under a <c>DescribeDBClustersResult</c>.</summary>
    public static IReadOnlyList<RdsDbCluster> ParseDescribeDBClusters(XElement result) =>
        [.. Child(result, "DBClusters")?.Elements().Where(e => e.Name.LocalName == "DBCluster").Select(ParseCluster) ?? []];

    /// <summary>The <c>DBCluster</c> of a Modify… result.</summary>
    public static RdsDbCluster ParseSingleCluster(XElement result) =>
        ParseCluster(Child(result, "DBCluster") ?? throw new FormatException("RDS answered without a DBCluster element"));

    public static RdsDbCluster ParseCluster(XElement e) => new()
    {
        Identifier = Text(e, "DBClusterIdentifier") ?? throw new FormatException("DBCluster without DBClusterIdentifier"),
        Engine = Text(e, "Engine") ?? "",
        EngineVersion = Text(e, "EngineVersion"),
        Status = Text(e, "Status"),
        Endpoint = Text(e, "Endpoint"),
        ReaderEndpoint = Text(e, "ReaderEndpoint"),
        Port = Int(Text(e, "Port")),
        SecurityGroupIds = GroupIds(e),
        SubnetGroupName = Text(e, "DBSubnetGroup"),
        BackupRetentionPeriod = Int(Text(e, "BackupRetentionPeriod")),
        Members = [.. Child(e, "DBClusterMembers")?.Elements()
            .Select(m => (Id: Text(m, "DBInstanceIdentifier"), Writer: Bool(Text(m, "IsClusterWriter"))))
            .Where(m => m.Id is not null)
            .Select(m => new RdsDbClusterMember(m.Id!, m.Writer)) ?? []],
    };

    private static IReadOnlyList<string> GroupIds(XElement e) =>
        [.. Child(e, "VpcSecurityGroups")?.Elements().Select(m => Text(m, "VpcSecurityGroupId")).OfType<string>() ?? []];

    public static RdsDbInstance ParseInstance(XElement e)
    {
        var endpoint = Child(e, "Endpoint");
        var subnetGroup = Child(e, "DBSubnetGroup");
        return new RdsDbInstance
        {
            Identifier = Text(e, "DBInstanceIdentifier") ?? throw new FormatException("DBInstance without DBInstanceIdentifier"),
            Engine = Text(e, "Engine") ?? "",
            EngineVersion = Text(e, "EngineVersion"),
            InstanceClass = Text(e, "DBInstanceClass"),
            Status = Text(e, "DBInstanceStatus"),
            EndpointAddress = endpoint is null ? null : Text(endpoint, "Address"),
            EndpointPort = endpoint is null ? null : Int(Text(endpoint, "Port")),
            VpcId = subnetGroup is null ? null : Text(subnetGroup, "VpcId"),
            SecurityGroupIds = GroupIds(e),
            SubnetGroupName = subnetGroup is null ? null : Text(subnetGroup, "DBSubnetGroupName"),
            SubnetIds = subnetGroup is null ? [] : SubnetIds(subnetGroup),
            PubliclyAccessible = Bool(Text(e, "PubliclyAccessible")),
            AvailabilityZone = Text(e, "AvailabilityZone"),
            DatabaseName = Text(e, "DBName"),
            ReadReplicaSourceIdentifier = Text(e, "ReadReplicaSourceDBInstanceIdentifier"),
            BackupRetentionPeriod = Int(Text(e, "BackupRetentionPeriod")),
            ClusterIdentifier = Text(e, "DBClusterIdentifier"),
            Tags = Child(e, "TagList")?.Elements()
                .Select(t => (Key: Text(t, "Key"), Value: Text(t, "Value") ?? ""))
                .Where(t => t.Key is not null)
                .GroupBy(t => t.Key!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal) ?? new Dictionary<string, string>(),
        };
    }

    /// <summary>Every <c>DBSnapshot</c> under a <c>DescribeDBSnapshotsResult</c>.</summary>
    public static IReadOnlyList<RdsDbSnapshot> ParseDescribeDBSnapshots(XElement result) =>
        [.. Child(result, "DBSnapshots")?.Elements().Where(e => e.Name.LocalName == "DBSnapshot").Select(ParseSnapshot) ?? []];

    /// <summary>The <c>DBSnapshot</c> of a CreateDBSnapshot result.</summary>
    public static RdsDbSnapshot ParseSingleSnapshot(XElement result) =>
        ParseSnapshot(Child(result, "DBSnapshot") ?? throw new FormatException("RDS answered without a DBSnapshot element"));

    public static RdsDbSnapshot ParseSnapshot(XElement e) => new(
        Text(e, "DBSnapshotIdentifier") ?? throw new FormatException("DBSnapshot without DBSnapshotIdentifier"),
        Text(e, "DBInstanceIdentifier"),
        Text(e, "Status"),
        Text(e, "SnapshotType"));

    public static RdsDbSubnetGroup ParseSubnetGroup(XElement e) =>
        new(Text(e, "DBSubnetGroupName") ?? "", Text(e, "VpcId"), SubnetIds(e));

    private static IReadOnlyList<string> SubnetIds(XElement subnetGroup) =>
        [.. Child(subnetGroup, "Subnets")?.Elements().Select(s => Text(s, "SubnetIdentifier")).OfType<string>() ?? []];

    private static XElement? Child(XElement e, string localName) => e.Elements().FirstOrDefault(c => c.Name.LocalName == localName);

    private static string? Text(XElement e, string localName) => Child(e, localName)?.Value.Trim() is { Length: > 0 } v ? v : null;

    private static int? Int(string? s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static bool Bool(string? s) => string.Equals(s, "true", StringComparison.OrdinalIgnoreCase);
}
