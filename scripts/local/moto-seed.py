#!/usr/bin/env python3
"""Seeds a moto server with one private PostgreSQL instance and its network, for running PrequelBot locally.

Creates (or finds, on a re-run) a VPC tagged Name=prequelbot-local with an internet gateway that its main route table
sends 0.0.0.0/0 to, two subnets on a custom network ACL with no entries, a security group, a DB subnet group and a private postgres DB instance (default `mydb-prod`), then prints
the ids. Talks only to the moto URL given (loopback only), with moto's dummy credentials.

    python3 scripts/local/moto-seed.py --endpoint http://127.0.0.1:5055 [--instance mydb-prod] [--region us-east-1]
"""
import argparse
import os
import sys
from urllib.parse import urlparse

import boto3

TAG = "prequelbot-local"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", default=os.environ.get("Aws__ServiceUrl", "http://127.0.0.1:5055"))
    parser.add_argument("--region", default=os.environ.get("Aws__Region", "us-east-1"))
    parser.add_argument("--instance", default="mydb-prod")
    args = parser.parse_args()
    if urlparse(args.endpoint).hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing {args.endpoint}: this script only talks to a moto server on loopback")

    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=args.region)
    ec2 = session.client("ec2", endpoint_url=args.endpoint)
    rds = session.client("rds", endpoint_url=args.endpoint)

    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [TAG]}])["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": TAG}])

    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    if igws:
        igw_id = igws[0]["InternetGatewayId"]
    else:
        igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    main_table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                    {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    if not any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in main_table.get("Routes", [])):
        ec2.create_route(RouteTableId=main_table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)

    subnets = []
    for cidr, zone in (("10.20.1.0/24", f"{args.region}a"), ("10.20.2.0/24", f"{args.region}b")):
        found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "cidr-block", "Values": [cidr]}])["Subnets"]
        subnets.append(found[0]["SubnetId"] if found else
                       ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"])

    acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "tag:Name", "Values": [TAG]}])["NetworkAcls"]
    if acls:
        acl_id = acls[0]["NetworkAclId"]
    else:
        acl_id = ec2.create_network_acl(VpcId=vpc_id)["NetworkAcl"]["NetworkAclId"]
        ec2.create_tags(Resources=[acl_id], Tags=[{"Key": "Name", "Value": TAG}])
    for subnet in subnets:
        current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["NetworkAcls"][0]
        if current["NetworkAclId"] != acl_id:
            association = next(a for a in current["Associations"] if a["SubnetId"] == subnet)
            ec2.replace_network_acl_association(AssociationId=association["NetworkAclAssociationId"], NetworkAclId=acl_id)

    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [TAG]}])["SecurityGroups"]
    sg_id = groups[0]["GroupId"] if groups else \
        ec2.create_security_group(GroupName=TAG, Description="PrequelBot local database", VpcId=vpc_id)["GroupId"]

    try:
        rds.describe_db_subnet_groups(DBSubnetGroupName=TAG)
    except rds.exceptions.DBSubnetGroupNotFoundFault:
        rds.create_db_subnet_group(DBSubnetGroupName=TAG, DBSubnetGroupDescription="PrequelBot local", SubnetIds=subnets)

    try:
        instance = rds.describe_db_instances(DBInstanceIdentifier=args.instance)["DBInstances"][0]
    except rds.exceptions.DBInstanceNotFoundFault:
        instance = rds.create_db_instance(
            DBInstanceIdentifier=args.instance, DBInstanceClass="db.t3.micro", Engine="postgres",
            MasterUsername="postgres", MasterUserPassword="not-a-real-secret-1", AllocatedStorage=20,
            DBSubnetGroupName=TAG, VpcSecurityGroupIds=[sg_id], PubliclyAccessible=False,
            BackupRetentionPeriod=1)["DBInstance"]

    print(f"vpc             {vpc_id}")
    print(f"subnets         {' '.join(subnets)} (0.0.0.0/0 → {igw_id})")
    print(f"network acl     {acl_id} (custom, no entries of its own)")
    print(f"security group  {sg_id}")
    print(f"subnet group    {TAG}")
    print(f"db instance     {args.instance} ({instance['Engine']}, public: {instance.get('PubliclyAccessible')}, "
          f"status: {instance.get('DBInstanceStatus')})")


if __name__ == "__main__":
    main()
