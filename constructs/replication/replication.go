// Package replication replicates a source database into the lake with AWS
// DMS: a replication subnet group on the isolated subnets, a security group
// of its own, a private instance encrypted with the lake key, a source
// endpoint reading its connection from Secrets Manager, a Kinesis (through
// the validator) or S3 (landing/dms/) target, and a full-load-and-CDC task.
// aws-cdk-lib has no L2 constructs for DMS, hence the L1 resources.
//
// Account-global prerequisites: DMS needs the roles `dms-vpc-role` and
// `dms-cloudwatch-logs-role`, whose names are fixed by DMS (one per
// account): this construct does not create them (ingestion/dms/README.md).
//
// Resources keep the caller's scope and the ids the ingestion stack used
// (the instance is stateful).
package replication

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/layout"
)

// LandingFolder is where the s3 target writes in the raw bucket (DMS adds
// <schema>/<table>/ below it).
const LandingFolder = layout.DMSLanding

// dmsEnginePorts are the default ports of the source engines config
// accepts; the replication security group may reach them and nothing else
// besides the AWS endpoints.
var dmsEnginePorts = map[string]float64{
	"mysql": 3306, "aurora": 3306, "mariadb": 3306,
	"postgres": 5432, "aurora-postgresql": 5432,
	"oracle": 1521, "sqlserver": 1433,
}

// Props configure the replication.
type Props struct {
	// Prefix names the DMS resources (<prefix>-dms...). Required.
	Prefix string
	// Vpc holds the instance in its isolated subnets. Required.
	Vpc awsec2.IVpc
	// Key encrypts the instance storage and the S3 target's files. Required.
	Key awskms.IKey
	// SourceSecretName names the Secrets Manager secret with host, port,
	// username and password. Required.
	SourceSecretName string
	// SourceEngine: mysql, postgres, aurora, aurora-postgresql, oracle,
	// sqlserver or mariadb. Required.
	SourceEngine string
	// SourceDatabase and SourceSchema locate the tables. Required.
	SourceDatabase, SourceSchema string
	// Tables are replicated (the table name is the dataset name). Required.
	Tables []string
	// Target is "kinesis" (Stream required) or "s3" (Raw required).
	Target string
	Stream awskinesis.IStream
	Raw    awss3.IBucket
	// InstanceClass and AllocatedStorageGB size the instance.
	// Defaults: dms.t3.medium, 50.
	InstanceClass      string
	AllocatedStorageGB int
	// MultiAZ runs a standby instance. Default: false.
	MultiAZ bool
	// TaskSettings is the replication task settings JSON. Required.
	TaskSettings string
	// CdcBatchSeconds is how long the S3 target gathers changes into one
	// file (CdcMaxBatchInterval; a file is also written once it reaches
	// DMS's CdcMinFileSize, 32 MB). Default: 3600: one CDC file per table
	// and hour instead of DMS's default of one a minute, each of which a
	// Glue run must list and read.
	CdcBatchSeconds float64
}

// Replication is the built replication.
type Replication struct {
	Task awsdms.CfnReplicationTask
}

// TaskArn is the replication task's ARN (failure rules, outputs).
func (r *Replication) TaskArn() *string { return r.Task.Ref() }

// New builds the replication in scope.
func New(stack constructs.Construct, p Props) *Replication {
	if p.Prefix == "" || p.Vpc == nil || p.Key == nil || p.SourceSecretName == "" || p.TaskSettings == "" || len(p.Tables) == 0 {
		panic("replication: Prefix, Vpc, Key, SourceSecretName, Tables and TaskSettings are required")
	}
	if (p.Target == "s3" && p.Raw == nil) || (p.Target != "s3" && p.Stream == nil) {
		panic("replication: an s3 target needs Raw, a kinesis target Stream")
	}
	if _, ok := dmsEnginePorts[p.SourceEngine]; !ok {
		panic(fmt.Sprintf("replication: SourceEngine %q is not one of mysql, aurora, mariadb, postgres, aurora-postgresql, oracle, sqlserver", p.SourceEngine))
	}
	if p.CdcBatchSeconds == 0 {
		p.CdcBatchSeconds = 3600
	}
	if p.InstanceClass == "" {
		p.InstanceClass = "dms.t3.medium"
	}
	if p.AllocatedStorageGB == 0 {
		p.AllocatedStorageGB = 50
	}
	prefix, d := p.Prefix, &p

	var subnetIDs []*string
	for _, s := range *p.Vpc.IsolatedSubnets() {
		subnetIDs = append(subnetIDs, s.SubnetId())
	}
	subnets := awsdms.NewCfnReplicationSubnetGroup(stack, jsii.String("ReplicationSubnetGroup"), &awsdms.CfnReplicationSubnetGroupProps{
		ReplicationSubnetGroupIdentifier:  jsii.String(prefix + "-dms"),
		ReplicationSubnetGroupDescription: jsii.String("Isolated subnets of " + prefix + " for DMS"),
		SubnetIds:                         &subnetIDs,
	})

	// A group of its own rather than the job group: the job group admits
	// all TCP from itself (Spark), which DMS does not need, and the source
	// database's security group can admit exactly this group.
	sg := awsec2.NewSecurityGroup(stack, jsii.String("ReplicationSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:              p.Vpc,
		Description:      jsii.String("DMS replication instance of " + prefix + ": source database and AWS endpoints only"),
		AllowAllOutbound: jsii.Bool(false),
	})
	// The subnets are isolated: these reach only what the VPC routes to
	// (interface endpoints; the source database through peering or a
	// transit gateway that the database owner sets up).
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(dmsEnginePorts[d.SourceEngine])), jsii.String("Source database ("+d.SourceEngine+")"), nil)
	sg.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("AWS service endpoints (isolated subnets)"), nil)

	instance := awsdms.NewCfnReplicationInstance(stack, jsii.String("ReplicationInstance"), &awsdms.CfnReplicationInstanceProps{
		ReplicationInstanceIdentifier:    jsii.String(prefix + "-dms"),
		ReplicationInstanceClass:         jsii.String(d.InstanceClass),
		AllocatedStorage:                 jsii.Number(float64(d.AllocatedStorageGB)),
		PubliclyAccessible:               jsii.Bool(false),
		MultiAz:                          jsii.Bool(p.MultiAZ),
		KmsKeyId:                         p.Key.KeyArn(),
		ReplicationSubnetGroupIdentifier: subnets.Ref(),
		VpcSecurityGroupIds:              jsii.Strings(*sg.SecurityGroupId()),
		AutoMinorVersionUpgrade:          jsii.Bool(true),
	})

	source := newSourceEndpoint(stack, d)
	var target awsdms.CfnEndpoint
	if d.Target == "s3" {
		target = newS3Target(stack, d)
	} else {
		target = newKinesisTarget(stack, d)
	}

	mappings, err := TableMappings(d.SourceSchema, d.Tables)
	if err != nil {
		panic(err)
	}
	task := awsdms.NewCfnReplicationTask(stack, jsii.String("ReplicationTask"), &awsdms.CfnReplicationTaskProps{
		ReplicationTaskIdentifier: jsii.String(prefix + "-dms"),
		MigrationType:             jsii.String("full-load-and-cdc"),
		ReplicationInstanceArn:    instance.Ref(),
		SourceEndpointArn:         source.Ref(),
		TargetEndpointArn:         target.Ref(),
		TableMappings:             jsii.String(mappings),
		ReplicationTaskSettings:   jsii.String(p.TaskSettings),
	})
	return &Replication{Task: task}
}

// newSourceEndpoint reads its connection (host, port, username, password)
// from the Secrets Manager secret named in config, through a role that may
// read that secret only.
func newSourceEndpoint(stack constructs.Construct, d *Props) awsdms.CfnEndpoint {
	// Secret access roles must trust the regional DMS principal.
	role := awsiam.NewRole(stack, jsii.String("SourceSecretRole"), &awsiam.RoleProps{
		AssumedBy:   dmsPrincipal(stack, "dms."+*awscdk.Stack_Of(stack).Region()+".amazonaws.com"),
		Description: jsii.String("DMS reads the source connection secret " + d.SourceSecretName),
	})
	secret := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String("SourceSecret"), jsii.String(d.SourceSecretName))
	secret.GrantRead(role, nil)
	compliance.Suppress(role, compliance.Suppression{
		ID:     "AwsSolutions-IAM5",
		Reason: "A secret referenced by name has a random 6-character ARN suffix; the grant covers that one secret name only.",
		AppliesToRegex: []string{
			`/^Resource::arn:<AWS::Partition>:secretsmanager:.*:secret:` + regexp.QuoteMeta(d.SourceSecretName) + `-\?\?\?\?\?\?$/g`,
		},
	})

	ep := &awsdms.CfnEndpointProps{
		EndpointIdentifier: jsii.String(d.Prefix + "-dms-source"),
		EndpointType:       jsii.String("source"),
		EngineName:         jsii.String(d.SourceEngine),
		DatabaseName:       jsii.String(d.SourceDatabase),
	}
	secretID, roleArn := jsii.String(d.SourceSecretName), role.RoleArn()
	switch d.SourceEngine {
	case "mysql", "aurora", "mariadb":
		ep.MySqlSettings = &awsdms.CfnEndpoint_MySqlSettingsProperty{SecretsManagerSecretId: secretID, SecretsManagerAccessRoleArn: roleArn}
	case "postgres", "aurora-postgresql":
		ep.PostgreSqlSettings = &awsdms.CfnEndpoint_PostgreSqlSettingsProperty{SecretsManagerSecretId: secretID, SecretsManagerAccessRoleArn: roleArn}
	case "oracle":
		ep.OracleSettings = &awsdms.CfnEndpoint_OracleSettingsProperty{SecretsManagerSecretId: secretID, SecretsManagerAccessRoleArn: roleArn}
	case "sqlserver":
		ep.MicrosoftSqlServerSettings = &awsdms.CfnEndpoint_MicrosoftSqlServerSettingsProperty{SecretsManagerSecretId: secretID, SecretsManagerAccessRoleArn: roleArn}
	default:
		panic("replication: unknown SourceEngine " + d.SourceEngine)
	}
	// TLS to the source. Oracle's only TLS mode (verify-ca) needs a
	// certificate imported into DMS first, so it stays on the engine default.
	if d.SourceEngine != "oracle" {
		ep.SslMode = jsii.String("require")
	}
	return awsdms.NewCfnEndpoint(stack, jsii.String("SourceEndpoint"), ep)
}

// newKinesisTarget writes JSON change records
// ({"data":{...},"metadata":{"table-name":...}}) to the ingestion stream,
// where the validator reads the dataset from metadata.table-name.
func newKinesisTarget(stack constructs.Construct, p *Props) awsdms.CfnEndpoint {
	stream := p.Stream
	role := awsiam.NewRole(stack, jsii.String("TargetStreamRole"), &awsiam.RoleProps{
		AssumedBy:   dmsPrincipal(stack, "dms.amazonaws.com"),
		Description: jsii.String("DMS writes change records to the ingestion stream"),
	})
	stream.GrantWrite(role)
	// DMS also describes the stream (its documented target policy).
	stream.Grant(role, jsii.String("kinesis:DescribeStream"))
	compliance.GrantWildcards(role, "DMS puts change records on the stream, encrypted with the lake key.")
	return awsdms.NewCfnEndpoint(stack, jsii.String("TargetEndpoint"), &awsdms.CfnEndpointProps{
		EndpointIdentifier: jsii.String(p.Prefix + "-dms-target"),
		EndpointType:       jsii.String("target"),
		EngineName:         jsii.String("kinesis"),
		KinesisSettings: &awsdms.CfnEndpoint_KinesisSettingsProperty{
			StreamArn:            stream.StreamArn(),
			MessageFormat:        jsii.String("json"),
			ServiceAccessRoleArn: role.RoleArn(),
			// Spread a table's rows over the shards by primary key.
			PartitionIncludeSchemaTable: jsii.Bool(true),
			IncludeNullAndEmpty:         jsii.Bool(true),
		},
	})
}

// newS3Target writes CSV files with a header under landing/ of the raw
// bucket, SSE-KMS with the lake key (the bucket policy refuses any other).
func newS3Target(stack constructs.Construct, p *Props) awsdms.CfnEndpoint {
	role := awsiam.NewRole(stack, jsii.String("TargetBucketRole"), &awsiam.RoleProps{
		AssumedBy:   dmsPrincipal(stack, "dms.amazonaws.com"),
		Description: jsii.String("DMS writes files under " + LandingFolder + "/ of the raw bucket"),
	})
	// DMS lists the bucket and puts, tags and deletes its own files.
	p.Raw.GrantReadWrite(role, jsii.String(LandingFolder+"/*"))
	compliance.GrantWildcards(role, "DMS writes its files under landing/ of the raw zone with the lake key.", *p.Raw.Node().Id())
	return awsdms.NewCfnEndpoint(stack, jsii.String("TargetEndpoint"), &awsdms.CfnEndpointProps{
		EndpointIdentifier: jsii.String(p.Prefix + "-dms-target"),
		EndpointType:       jsii.String("target"),
		EngineName:         jsii.String("s3"),
		S3Settings: &awsdms.CfnEndpoint_S3SettingsProperty{
			BucketName:                   p.Raw.BucketName(),
			BucketFolder:                 jsii.String(LandingFolder),
			ServiceAccessRoleArn:         role.RoleArn(),
			EncryptionMode:               jsii.String("SSE_KMS"),
			ServerSideEncryptionKmsKeyId: p.Key.KeyArn(),
			DataFormat:                   jsii.String("csv"),
			AddColumnName:                jsii.Bool(true),
			IncludeOpForFullLoad:         jsii.Bool(true),
			TimestampColumnName:          jsii.String("_dms_timestamp"),
			CompressionType:              jsii.String("GZIP"),
			CdcMaxBatchInterval:          jsii.Number(p.CdcBatchSeconds),
		},
	})
}

// ChangeSeqColumn is the column the task adds to every replicated row:
// $AR_H_CHANGE_SEQ, "a 35 digit unique number at task level. The first 16
// digits are part of a timestamp, and the last 19 digits are the record_id
// number incremented by the DBMS" (DMS User Guide, "Using transformation
// rule expressions to define column content"). The changes of one
// transaction share a commit timestamp; this orders them, so the lake keeps
// the last one (glue/lakelib envelope and dedup).
const ChangeSeqColumn = "_dms_change_seq"

// TableMappings is the DMS table-mapping document: per table of schema
// (the table name is the dataset name) a selection rule and an add-column
// rule for ChangeSeqColumn.
func TableMappings(schema string, tables []string) (string, error) {
	type locator struct {
		Schema string `json:"schema-name"`
		Table  string `json:"table-name"`
	}
	type dataType struct {
		Type   string `json:"type"`
		Length int    `json:"length"`
	}
	type rule struct {
		Type       string    `json:"rule-type"`
		ID         string    `json:"rule-id"`
		Name       string    `json:"rule-name"`
		Target     string    `json:"rule-target,omitempty"`
		Locator    locator   `json:"object-locator"`
		Action     string    `json:"rule-action"`
		Value      string    `json:"value,omitempty"`
		Expression string    `json:"expression,omitempty"`
		DataType   *dataType `json:"data-type,omitempty"`
	}
	rules := make([]rule, 0, 2*len(tables))
	for i, t := range tables {
		rules = append(rules, rule{
			Type: "selection", ID: fmt.Sprint(i + 1), Name: "include-" + t,
			Locator: locator{Schema: schema, Table: t}, Action: "include",
		})
	}
	for i, t := range tables {
		rules = append(rules, rule{
			Type: "transformation", ID: fmt.Sprint(len(tables) + i + 1), Name: "change-seq-" + t, Target: "column",
			Locator: locator{Schema: schema, Table: t}, Action: "add-column",
			Value: ChangeSeqColumn, Expression: "$AR_H_CHANGE_SEQ", DataType: &dataType{Type: "string", Length: 50},
		})
	}
	b, err := json.Marshal(map[string]any{"rules": rules})
	return string(b), err
}

// dmsPrincipal is the DMS service limited to this account (confused-deputy
// protection: another account's DMS cannot use our roles).
func dmsPrincipal(scope constructs.Construct, service string) awsiam.IPrincipal {
	return awsiam.NewServicePrincipal(jsii.String(service), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Stack_Of(scope).Account()}},
	})
}
