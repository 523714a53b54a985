using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;
using Amazon.Runtime;
using PrequelBot.Aws.Rds;

namespace PrequelBot.Aws.Tests.Rds;

/// <summary>
/// Pins the Query encoding of every RDS action and the parsing of AWS's documented XML, against a loopback listener
/// that records what the client sends.
/// </summary>
public sealed class RdsContractTests : IDisposable
{
    private const string Namespace = "http://rds.amazonaws.com/doc/2014-10-31/";

    /// <summary>The DescribeDBInstances sample from shared/spec/aws.md §1.</summary>
    private const string DescribeSample = $"""
        <DescribeDBInstancesResponse xmlns="{Namespace}">
         <DescribeDBInstancesResult><DBInstances><DBInstance>
          <DBInstanceIdentifier>orders</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>
          <Endpoint><Address>orders.x.eu-west-1.rds.amazonaws.com</Address><Port>5432</Port></Endpoint>
          <VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId>
           </VpcSecurityGroupMembership></VpcSecurityGroups>
          <DBSubnetGroup><VpcId>vpc-1</VpcId><Subnets><Subnet><SubnetIdentifier>subnet-1</SubnetIdentifier>
           </Subnet></Subnets></DBSubnetGroup>
         </DBInstance></DBInstances></DescribeDBInstancesResult>
         <ResponseMetadata><RequestId>9135fff3-8509-11e0-bd9b-a7b1ece36d51</RequestId></ResponseMetadata>
        </DescribeDBInstancesResponse>
        """;

    private const string SingleInstanceTemplate = $$"""
        <{0}Response xmlns="{{Namespace}}"><{0}Result><DBInstance>
          <DBInstanceIdentifier>orders-prequel-replica</DBInstanceIdentifier><Engine>postgres</Engine>
          <DBInstanceStatus>creating</DBInstanceStatus><PubliclyAccessible>true</PubliclyAccessible>
          <ReadReplicaSourceDBInstanceIdentifier>orders</ReadReplicaSourceDBInstanceIdentifier>
          <TagList><Tag><Key>managed-by</Key><Value>prequelbot</Value></Tag></TagList>
        </DBInstance></{0}Result><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></{0}Response>
        """;

    private const string SubnetGroupSample = $"""
        <DescribeDBSubnetGroupsResponse xmlns="{Namespace}"><DescribeDBSubnetGroupsResult><DBSubnetGroups><DBSubnetGroup>
          <VpcId>vpc-1</VpcId><DBSubnetGroupName>db-subnets</DBSubnetGroupName><SubnetGroupStatus>Complete</SubnetGroupStatus>
          <Subnets><Subnet><SubnetIdentifier>subnet-a</SubnetIdentifier></Subnet><Subnet><SubnetIdentifier>subnet-b</SubnetIdentifier></Subnet></Subnets>
        </DBSubnetGroup></DBSubnetGroups></DescribeDBSubnetGroupsResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></DescribeDBSubnetGroupsResponse>
        """;

    private const string NotFoundError = """
        <ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceNotFound</Code><Message>DBInstance nope not found.</Message></Error><RequestId>r-3</RequestId></ErrorResponse>
        """;

    private const string AlreadyExistsError = """
        <ErrorResponse><Error><Type>Sender</Type><Code>DBInstanceAlreadyExists</Code><Message>DB instance already exists</Message></Error><RequestId>r-4</RequestId></ErrorResponse>
        """;

    /// <summary>AWS's documented example secret key (not a real credential).</summary>
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    private readonly RecordingListener _listener = new();
    private readonly RdsQueryClient _queryClient;
    private readonly RdsClient _client;

    public RdsContractTests()
    {
        var config = new RdsClientConfig { ServiceURL = _listener.Url, AuthenticationRegion = "eu-west-1", MaxErrorRetry = 1 };
        _queryClient = new RdsQueryClient(new BasicAWSCredentials("AKIDEXAMPLE", SecretKey), config);
        _client = new RdsClient(_queryClient);
    }

    public void Dispose()
    {
        _queryClient.Dispose();
        _listener.Dispose();
    }

    [Fact]
    public async Task DescribeDBInstances_sends_the_identifier_and_parses_the_documented_sample()
    {
        _listener.Respond(HttpStatusCode.OK, DescribeSample);

        var instance = await _client.DescribeDBInstanceAsync("orders", CancellationToken.None);

        Assert.Equal("Action=DescribeDBInstances&DBInstanceIdentifier=orders&Version=2014-10-31", _listener.Bodies.Single());
        Assert.NotNull(instance);
        Assert.Equal(("orders", "available", "orders.x.eu-west-1.rds.amazonaws.com", 5432), (instance.Identifier, instance.Status, instance.EndpointAddress, instance.EndpointPort));
        Assert.Equal("vpc-1", instance.VpcId);
        Assert.Equal(["sg-1"], instance.SecurityGroupIds);
        Assert.Equal(["subnet-1"], instance.SubnetIds);
    }

    [Fact]
    public async Task Requests_carry_a_valid_sigv4_signature_for_the_configured_region_and_service()
    {
        _listener.Respond(HttpStatusCode.OK, DescribeSample);

        await _client.DescribeDBInstanceAsync("orders", CancellationToken.None);

        var request = _listener.Requests.Single();
        var scope = SigV4Verifier.Verify("POST", "/", "", request.Headers, request.Body, SecretKey);
        Assert.Equal(("AKIDEXAMPLE", "eu-west-1", "rds"), (scope.AccessKey, scope.Region, scope.Service));
        Assert.Equal("application/x-www-form-urlencoded; charset=utf-8", request.Headers["Content-Type"]);
    }

    [Fact]
    public async Task A_tampered_body_does_not_verify()
    {
        _listener.Respond(HttpStatusCode.OK, DescribeSample);
        await _client.DescribeDBInstanceAsync("orders", CancellationToken.None);
        var request = _listener.Requests.Single();

        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(request.Body).Replace("orders", "others", StringComparison.Ordinal));

        Assert.Throws<InvalidOperationException>(() => SigV4Verifier.Verify("POST", "/", "", request.Headers, tampered, SecretKey));
    }

    [Fact]
    public async Task CreateDBInstanceReadReplica_sends_model_named_tags_and_public_flag()
    {
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "CreateDBInstanceReadReplica", StringComparison.Ordinal));

        var replica = await _client.CreateDBInstanceReadReplicaAsync(new CreateReadReplicaRequest
        {
            ReplicaIdentifier = "orders-prequel-replica",
            SourceIdentifier = "orders",
            InstanceClass = "db.t4g.medium",
            Tags = [new("managed-by", "prequelbot"), new("prequelbot-onboarding", "ob-abcd")],
        }, CancellationToken.None);

        Assert.Equal(
            "Action=CreateDBInstanceReadReplica&DBInstanceClass=db.t4g.medium&DBInstanceIdentifier=orders-prequel-replica&PubliclyAccessible=true" +
            "&SourceDBInstanceIdentifier=orders&Tags.Tag.1.Key=managed-by&Tags.Tag.1.Value=prequelbot&Tags.Tag.2.Key=prequelbot-onboarding" +
            "&Tags.Tag.2.Value=ob-abcd&Version=2014-10-31",
            _listener.Bodies.Single());
        Assert.True(replica.IsReplicaOf("orders"));
        Assert.Equal("prequelbot", replica.Tags["managed-by"]);
    }

    [Fact]
    public async Task CreateDBInstanceReadReplica_passes_the_source_groups_and_the_replica_subnet_group_explicitly()
    {
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "CreateDBInstanceReadReplica", StringComparison.Ordinal));

        await _client.CreateDBInstanceReadReplicaAsync(new CreateReadReplicaRequest
        {
            ReplicaIdentifier = "orders-prequel-replica",
            SourceIdentifier = "orders",
            VpcSecurityGroupIds = ["sg-1", "sg-2"],
            SubnetGroupName = "public-subnets",
        }, CancellationToken.None);

        Assert.Equal(
            "Action=CreateDBInstanceReadReplica&DBInstanceIdentifier=orders-prequel-replica&DBSubnetGroupName=public-subnets&PubliclyAccessible=true" +
            "&SourceDBInstanceIdentifier=orders&Version=2014-10-31&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2",
            _listener.Bodies.Single());
    }

    /// <summary>
    /// ModifyDBInstance <c>VpcSecurityGroupIds</c> replaces the instance's whole list
    /// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html), which moto does not check:
    /// the request must carry every current group plus the new one, and nothing else that could change the instance.
    /// </summary>
    [Fact]
    public async Task ModifyDBInstance_for_groups_sends_the_whole_list_in_order_and_apply_immediately_only()
    {
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "ModifyDBInstance", StringComparison.Ordinal));

        await _client.SetVpcSecurityGroupsAsync("orders", ["sg-shared", "sg-app", "sg-prequelbot"], CancellationToken.None);

        Assert.Equal(
            "Action=ModifyDBInstance&ApplyImmediately=true&DBInstanceIdentifier=orders&Version=2014-10-31" +
            "&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-shared&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-app&VpcSecurityGroupIds.VpcSecurityGroupId.3=sg-prequelbot",
            _listener.Bodies.Single());
    }

    /// <summary>
    /// ModifyDBCluster <c>VpcSecurityGroupIds</c> replaces the cluster's list
    /// (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBCluster.html); moto applies it without checks.
    /// </summary>
    [Fact]
    public async Task ModifyDBCluster_for_groups_sends_the_whole_list_and_apply_immediately_only()
    {
        _listener.Respond(HttpStatusCode.OK, $"""
            <ModifyDBClusterResponse xmlns="{Namespace}"><ModifyDBClusterResult><DBCluster><DBClusterIdentifier>orders</DBClusterIdentifier>
            <VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId></VpcSecurityGroupMembership>
            <VpcSecurityGroupMembership><VpcSecurityGroupId>sg-p</VpcSecurityGroupId></VpcSecurityGroupMembership></VpcSecurityGroups>
            </DBCluster></ModifyDBClusterResult></ModifyDBClusterResponse>
            """);

        var cluster = await _client.SetClusterVpcSecurityGroupsAsync("orders", ["sg-1", "sg-p"], CancellationToken.None);

        Assert.Equal("Action=ModifyDBCluster&ApplyImmediately=true&DBClusterIdentifier=orders&Version=2014-10-31" +
            "&VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-p", _listener.Bodies.Single());
        Assert.Equal(["sg-1", "sg-p"], cluster.SecurityGroupIds);
    }

    /// <summary>CreateDBInstance of an Aurora reader (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html): no groups, subnet group or storage.</summary>
    [Fact]
    public async Task CreateDBInstance_for_an_aurora_reader_sends_the_cluster_engine_class_public_flag_and_tags_only()
    {
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "CreateDBInstance", StringComparison.Ordinal));

        await _client.CreateClusterInstanceAsync(new CreateClusterInstanceRequest
        {
            InstanceIdentifier = "orders-prequel-reader", ClusterIdentifier = "orders", InstanceClass = "db.r6g.large", Tags = [new("managed-by", "prequelbot")],
        }, CancellationToken.None);

        Assert.Equal("Action=CreateDBInstance&DBClusterIdentifier=orders&DBInstanceClass=db.r6g.large&DBInstanceIdentifier=orders-prequel-reader" +
            "&Engine=aurora-postgresql&PubliclyAccessible=true&Tags.Tag.1.Key=managed-by&Tags.Tag.1.Value=prequelbot&Version=2014-10-31", _listener.Bodies.Single());
    }

    /// <summary>The DescribeDBClusters shape documented at https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBClusters.html.</summary>
    [Fact]
    public async Task DescribeDBClusters_parses_members_roles_endpoints_groups_subnet_group_and_port()
    {
        _listener.Respond(HttpStatusCode.OK, $"""
            <DescribeDBClustersResponse xmlns="{Namespace}"><DescribeDBClustersResult><DBClusters><DBCluster>
            <DBClusterIdentifier>orders</DBClusterIdentifier><Engine>aurora-postgresql</Engine><Status>available</Status>
            <Endpoint>orders.cluster-x.eu-west-1.rds.amazonaws.com</Endpoint><ReaderEndpoint>orders.cluster-ro-x.eu-west-1.rds.amazonaws.com</ReaderEndpoint>
            <Port>5432</Port><DBSubnetGroup>db-subnets</DBSubnetGroup>
            <VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId><Status>active</Status></VpcSecurityGroupMembership></VpcSecurityGroups>
            <DBClusterMembers><DBClusterMember><DBInstanceIdentifier>orders-1</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter></DBClusterMember>
            <DBClusterMember><DBInstanceIdentifier>orders-2</DBInstanceIdentifier><IsClusterWriter>false</IsClusterWriter></DBClusterMember></DBClusterMembers>
            </DBCluster></DBClusters></DescribeDBClustersResult></DescribeDBClustersResponse>
            """);

        var cluster = await _client.DescribeDBClusterAsync("orders", CancellationToken.None);

        Assert.Equal("Action=DescribeDBClusters&DBClusterIdentifier=orders&Version=2014-10-31", _listener.Bodies.Single());
        Assert.NotNull(cluster);
        Assert.Equal(("orders-1", "db-subnets", 5432), (cluster.WriterIdentifier, cluster.SubnetGroupName, cluster.Port));
        Assert.Equal(["orders-2"], cluster.ReaderIdentifiers);
        Assert.Equal(["sg-1"], cluster.SecurityGroupIds);
        Assert.Equal("orders.cluster-ro-x.eu-west-1.rds.amazonaws.com", cluster.ReaderEndpoint);
    }

    [Fact]
    public void An_empty_group_list_is_never_sent()
    {
        Assert.Throws<ArgumentException>(() => RdsQueryParameters.SetVpcSecurityGroups("orders", []));
    }

    [Fact]
    public async Task Adding_a_group_keeps_every_current_group_and_sends_nothing_when_it_is_there_already()
    {
        var describeWithTwo = DescribeSample.Replace(
            "<VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId>",
            "<VpcSecurityGroupMembership><VpcSecurityGroupId>sg-1</VpcSecurityGroupId></VpcSecurityGroupMembership><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-2</VpcSecurityGroupId>",
            StringComparison.Ordinal);
        _listener.Respond(HttpStatusCode.OK, describeWithTwo);
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "ModifyDBInstance", StringComparison.Ordinal));
        _listener.Respond(HttpStatusCode.OK, describeWithTwo);
        var holder = new Network.RdsInstanceSecurityGroups(_client, "orders");

        await holder.AddAsync("sg-new", CancellationToken.None);
        await holder.AddAsync("sg-2", CancellationToken.None);

        Assert.Equal(3, _listener.Bodies.Count);
        Assert.EndsWith("VpcSecurityGroupIds.VpcSecurityGroupId.1=sg-1&VpcSecurityGroupIds.VpcSecurityGroupId.2=sg-2&VpcSecurityGroupIds.VpcSecurityGroupId.3=sg-new", _listener.Bodies[1], StringComparison.Ordinal);
        Assert.StartsWith("Action=DescribeDBInstances", _listener.Bodies[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModifyDBInstance_sends_only_the_public_flag_and_apply_immediately()
    {
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "ModifyDBInstance", StringComparison.Ordinal));

        var modified = await _client.MakePubliclyAccessibleAsync("orders", CancellationToken.None);

        Assert.Equal("Action=ModifyDBInstance&ApplyImmediately=true&DBInstanceIdentifier=orders&PubliclyAccessible=true&Version=2014-10-31", _listener.Bodies.Single());
        Assert.True(modified.PubliclyAccessible);
    }

    [Fact]
    public async Task DescribeDBSubnetGroups_sends_the_name_and_reads_every_subnet()
    {
        _listener.Respond(HttpStatusCode.OK, SubnetGroupSample);

        var group = await _client.DescribeDBSubnetGroupAsync("db-subnets", CancellationToken.None);

        Assert.Equal("Action=DescribeDBSubnetGroups&DBSubnetGroupName=db-subnets&Version=2014-10-31", _listener.Bodies.Single());
        Assert.NotNull(group);
        Assert.Equal(("db-subnets", "vpc-1"), (group.Name, group.VpcId));
        Assert.Equal(["subnet-a", "subnet-b"], group.SubnetIds);
    }

    [Fact]
    public async Task DeleteDBInstance_skips_the_final_snapshot_by_default_and_names_it_when_asked()
    {
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "DeleteDBInstance", StringComparison.Ordinal));
        _listener.Respond(HttpStatusCode.OK, SingleInstanceTemplate.Replace("{0}", "DeleteDBInstance", StringComparison.Ordinal));

        await _client.DeleteDBInstanceAsync("orders-prequel-replica", null, CancellationToken.None);
        await _client.DeleteDBInstanceAsync("orders-prequel-replica", "orders-prequel-replica-prequel-final-202612021745", CancellationToken.None);

        Assert.Equal("Action=DeleteDBInstance&DBInstanceIdentifier=orders-prequel-replica&DeleteAutomatedBackups=true&SkipFinalSnapshot=true&Version=2014-10-31", _listener.Bodies[0]);
        Assert.Equal("Action=DeleteDBInstance&DBInstanceIdentifier=orders-prequel-replica&DeleteAutomatedBackups=true"
            + "&FinalDBSnapshotIdentifier=orders-prequel-replica-prequel-final-202612021745&SkipFinalSnapshot=false&Version=2014-10-31", _listener.Bodies[1]);
    }

    [Fact]
    public async Task CreateDBSnapshot_sends_the_ids_and_model_named_tags_and_reads_the_snapshot()
    {
        _listener.Respond(HttpStatusCode.OK, $"""
            <CreateDBSnapshotResponse xmlns="{Namespace}"><CreateDBSnapshotResult><DBSnapshot>
              <DBSnapshotIdentifier>orders-prequel-replica-prequel-final-202612021745</DBSnapshotIdentifier>
              <DBInstanceIdentifier>orders-prequel-replica</DBInstanceIdentifier><Status>creating</Status><SnapshotType>manual</SnapshotType>
            </DBSnapshot></CreateDBSnapshotResult><ResponseMetadata><RequestId>r-5</RequestId></ResponseMetadata></CreateDBSnapshotResponse>
            """);

        var snapshot = await _client.CreateDBSnapshotAsync("orders-prequel-replica-prequel-final-202612021745", "orders-prequel-replica",
            [new("managed-by", "prequelbot"), new("prequelbot:onboarding", "ob-7k2m9q")], CancellationToken.None);

        Assert.Equal("Action=CreateDBSnapshot&DBInstanceIdentifier=orders-prequel-replica&DBSnapshotIdentifier=orders-prequel-replica-prequel-final-202612021745"
            + "&Tags.Tag.1.Key=managed-by&Tags.Tag.1.Value=prequelbot&Tags.Tag.2.Key=prequelbot%3Aonboarding&Tags.Tag.2.Value=ob-7k2m9q&Version=2014-10-31", _listener.Bodies.Single());
        Assert.Equal(new RdsDbSnapshot("orders-prequel-replica-prequel-final-202612021745", "orders-prequel-replica", "creating", "manual"), snapshot);
    }

    [Fact]
    public async Task DescribeDBSnapshots_sends_the_id_and_an_unknown_snapshot_is_null()
    {
        _listener.Respond(HttpStatusCode.OK, $"""
            <DescribeDBSnapshotsResponse xmlns="{Namespace}"><DescribeDBSnapshotsResult><DBSnapshots><DBSnapshot>
              <DBSnapshotIdentifier>snap-1</DBSnapshotIdentifier><DBInstanceIdentifier>orders-prequel-replica</DBInstanceIdentifier>
              <Status>available</Status><SnapshotType>manual</SnapshotType>
            </DBSnapshot></DBSnapshots></DescribeDBSnapshotsResult><ResponseMetadata><RequestId>r-6</RequestId></ResponseMetadata></DescribeDBSnapshotsResponse>
            """);
        _listener.Respond(HttpStatusCode.NotFound, """
            <ErrorResponse><Error><Type>Sender</Type><Code>DBSnapshotNotFound</Code><Message>DBSnapshot nope not found.</Message></Error><RequestId>r-7</RequestId></ErrorResponse>
            """);

        var found = await _client.DescribeDBSnapshotAsync("snap-1", CancellationToken.None);
        var missing = await _client.DescribeDBSnapshotAsync("nope", CancellationToken.None);

        Assert.Equal("Action=DescribeDBSnapshots&DBSnapshotIdentifier=snap-1&Version=2014-10-31", _listener.Bodies[0]);
        Assert.Equal(("available", "orders-prequel-replica"), (found!.Status, found.InstanceIdentifier));
        Assert.Null(missing);
    }

    [Fact]
    public async Task Unknown_instance_is_null_not_an_error()
    {
        _listener.Respond(HttpStatusCode.NotFound, NotFoundError);

        var instance = await _client.DescribeDBInstanceAsync("nope", CancellationToken.None);

        Assert.Null(instance);
    }

    [Fact]
    public async Task Aws_errors_surface_with_their_code_and_message()
    {
        _listener.Respond(HttpStatusCode.BadRequest, AlreadyExistsError);

        var error = await Assert.ThrowsAsync<RdsServiceException>(() => _client.CreateDBInstanceReadReplicaAsync(
            new CreateReadReplicaRequest { ReplicaIdentifier = "r", SourceIdentifier = "orders" }, CancellationToken.None));

        Assert.Equal(("DBInstanceAlreadyExists", "DB instance already exists", "r-4", HttpStatusCode.BadRequest), (error.ErrorCode, error.Message, error.RequestId, error.StatusCode));
    }

    [Fact]
    public async Task Throttling_is_retried_by_the_sdk()
    {
        _listener.Respond(HttpStatusCode.BadRequest, """<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>t</RequestId></ErrorResponse>""");
        _listener.Respond(HttpStatusCode.OK, DescribeSample);

        var instance = await _client.DescribeDBInstanceAsync("orders", CancellationToken.None);

        Assert.NotNull(instance);
        Assert.Equal(2, _listener.Bodies.Count);
    }

    [Fact]
    public void Parser_matches_elements_by_local_name()
    {
        var result = XElement.Parse(DescribeSample).Elements().First();

        var instances = RdsXml.ParseDescribeDBInstances(result);

        Assert.Equal("orders", Assert.Single(instances).Identifier);
    }

    /// <summary>A loopback HTTP listener that answers queued responses and records each request.</summary>
    private sealed class RecordingListener : IDisposable
    {
        private readonly HttpListener _http = new();
        private readonly Queue<(HttpStatusCode Status, string Body)> _responses = new();
        private readonly CancellationTokenSource _stop = new();

        public RecordingListener()
        {
            var port = FreePort();
            Url = $"http://127.0.0.1:{port}/";
            _http.Prefixes.Add(Url);
            _http.Start();
            _ = Task.Run(LoopAsync);
        }

        public string Url { get; }
        public List<string> Bodies { get; } = [];
        public List<(System.Collections.Specialized.NameValueCollection Headers, byte[] Body)> Requests { get; } = [];

        public void Respond(HttpStatusCode status, string body)
        {
            lock (_responses) { _responses.Enqueue((status, body)); }
        }

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try { context = await _http.GetContextAsync().ConfigureAwait(false); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
                using var buffer = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(buffer).ConfigureAwait(false);
                var bytes = buffer.ToArray();
                var body = Encoding.UTF8.GetString(bytes);
                (HttpStatusCode Status, string Body) response;
                lock (_responses)
                {
                    Bodies.Add(body);
                    Requests.Add((new System.Collections.Specialized.NameValueCollection(context.Request.Headers), bytes));
                    response = _responses.Count > 0 ? _responses.Dequeue() : (HttpStatusCode.InternalServerError, "<ErrorResponse/>");
                }
                var answer = Encoding.UTF8.GetBytes(response.Body);
                context.Response.StatusCode = (int)response.Status;
                context.Response.ContentType = "text/xml";
                await context.Response.OutputStream.WriteAsync(answer).ConfigureAwait(false);
                context.Response.Close();
            }
        }

        private static int FreePort()
        {
            using var socket = new TcpListener(IPAddress.Loopback, 0);
            socket.Start();
            return ((IPEndPoint)socket.LocalEndpoint).Port;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _http.Close();
            _stop.Dispose();
        }
    }
}
