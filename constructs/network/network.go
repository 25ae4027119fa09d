// Package network is the lake's private network for Glue jobs, EMR
// Serverless and DMS: isolated subnets only (no NAT gateway, no internet
// route), the services they call reached through endpoints, flow logs, and
// the job security group. Resources keep the caller's scope and the ids the
// storage stack first used (the VPC and the flow-log group are stateful).
package network

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
)

// Props configure the network.
type Props struct {
	// Cidr is the VPC's range. Default: 10.40.0.0/16.
	Cidr string
	// Key encrypts the flow-log group. Required.
	Key awskms.IKey
	// LogRetention of the flow logs. Required.
	LogRetention awslogs.RetentionDays
	// RemovalPolicy of the flow-log group. Default: retain.
	RemovalPolicy awscdk.RemovalPolicy
	// Name appears in the job security group's description. Required.
	Name string
	// S3PrefixListID, when set, limits the job security group's HTTPS
	// egress to S3 to that managed prefix list. Default: any IPv4 address
	// (which reaches only S3 through the gateway endpoint: see New).
	S3PrefixListID string
}

// Network is the built network.
type Network struct {
	Vpc awsec2.IVpc
	// JobSecurityGroup admits Spark's own traffic and sends HTTPS to the
	// endpoints and S3 only.
	JobSecurityGroup awsec2.ISecurityGroup
}

// New builds the network in scope.
func New(stack constructs.Construct, p Props) *Network {
	if p.Key == nil || p.LogRetention == "" || p.Name == "" {
		panic("network: Key, LogRetention and Name are required")
	}
	if p.Cidr == "" {
		p.Cidr = "10.40.0.0/16"
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses: awsec2.IpAddresses_Cidr(jsii.String(p.Cidr)),
		// Two AZs of the region: resolved at deploy time (Fn::GetAZs) when the
		// account is not pinned, else looked up once and kept in
		// cdk.context.json. Not region+"a"/"b": some regions lack a letter.
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
			Name:       jsii.String("jobs"),
			SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED,
			CidrMask:   jsii.Number(24),
		}},
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	flowLogs := awslogs.NewLogGroup(stack, jsii.String("VpcFlowLogs"), &awslogs.LogGroupProps{
		EncryptionKey: p.Key,
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		TrafficType: awsec2.FlowLogTrafficType_ALL,
	})
	vpc.AddGatewayEndpoint(jsii.String("S3Endpoint"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
	})
	for _, e := range []struct {
		id  string
		svc awsec2.InterfaceVpcEndpointAwsService
	}{
		{"GlueEndpoint", awsec2.InterfaceVpcEndpointAwsService_GLUE()},
		{"KmsEndpoint", awsec2.InterfaceVpcEndpointAwsService_KMS()},
		{"LogsEndpoint", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
		{"MonitoringEndpoint", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_MONITORING()},
		{"StsEndpoint", awsec2.InterfaceVpcEndpointAwsService_STS()},
		{"KinesisEndpoint", awsec2.InterfaceVpcEndpointAwsService_KINESIS_STREAMS()},
		{"SecretsManagerEndpoint", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER()},
	} {
		vpc.AddInterfaceEndpoint(jsii.String(e.id), &awsec2.InterfaceVpcEndpointOptions{
			Service:           e.svc,
			PrivateDnsEnabled: jsii.Bool(true),
		})
	}
	compliance.Suppress(vpc, compliance.Suppression{
		ID:        "CdkNagValidationFailure",
		AppliesTo: []string{"AwsSolutions-EC23"},
		Reason:    "AwsSolutions-EC23 cannot evaluate the interface endpoints' security groups: they admit HTTPS from the VPC's own CIDR, a token at synth time. They never admit 0.0.0.0/0.",
	})
	// Glue needs a self-referencing rule: its Spark driver and executors
	// talk to each other on arbitrary ports inside this group only.
	sg := awsec2.NewSecurityGroup(stack, jsii.String("JobSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      jsii.String("Glue, EMR Serverless and DMS workers of " + p.Name),
		AllowAllOutbound: jsii.Bool(false),
	})
	sg.AddIngressRule(sg, awsec2.Port_AllTcp(), jsii.String("Spark driver and executors"), nil)
	sg.AddEgressRule(sg, awsec2.Port_AllTcp(), jsii.String("Spark driver and executors"), nil)
	// HTTPS to the interface endpoints (addresses in the VPC), and to S3
	// through the gateway endpoint. S3's addresses are the region's managed
	// prefix list, whose id CloudFormation cannot look up: with
	// s3_prefix_list_id the rule names it; without, HTTPS to any IPv4
	// address, which reaches S3 only, because the isolated subnets have no
	// other route out (no NAT, no internet gateway).
	sg.AddEgressRule(awsec2.Peer_Ipv4(vpc.VpcCidrBlock()), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("Interface endpoints of the VPC"), nil)
	if p.S3PrefixListID != "" {
		sg.AddEgressRule(awsec2.Peer_PrefixList(jsii.String(p.S3PrefixListID)), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("S3 through the gateway endpoint"), nil)
	} else {
		sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("S3 through the gateway endpoint (isolated subnets: no other route)"), nil)
	}
	return &Network{Vpc: vpc, JobSecurityGroup: sg}
}
