package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/layout"
)

// DMS replication of a source database into the lake (config block `dms`).
// aws-cdk-lib has no L2 constructs for DMS, hence the L1 resources.
//
// Account-global prerequisites: DMS needs the roles `dms-vpc-role` (to place
// a replication instance in a VPC) and `dms-cloudwatch-logs-role` (task
// logs). Their names are fixed by DMS, one per account, so a stack that
// created them would collide with any other environment in the same account.
// This stack does not create them; ingestion/dms/README.md has the one-time
// commands per account.
const (
	// DMSLandingFolder is where the s3 target writes in the raw bucket
	// (layout.DMSLanding; DMS adds <schema>/<table>/ below it). The
	// raw->processed job of a replicated dataset reads it besides
	// landing/<dataset>/ (see DMSLandingPath).
	DMSLandingFolder = layout.DMSLanding
)

// dmsEnginePorts are the default ports of the source engines config
// accepts; the replication security group may reach them and nothing else
// besides the AWS endpoints.
var dmsEnginePorts = map[string]float64{
	"mysql": 3306, "aurora": 3306, "mariadb": 3306,
	"postgres": 5432, "aurora-postgresql": 5432,
	"oracle": 1521, "sqlserver": 1433,
}

// dmsProps are what the replication needs from the ingestion stack.
type dmsProps struct {
	cfg     *config.Config
	storage *Storage
	stream  awskinesis.IStream
	// taskSettings is the replication task settings JSON (assets).
	taskSettings string
}

// newReplication builds the replication subnet group, instance, endpoints
// and the full-load-and-cdc task, and returns the task's ARN.
func newReplication(stack awscdk.Stack, p dmsProps) *string {
	cfg, st, d := p.cfg, p.storage, p.cfg.DMS
	if st.Vpc == nil {
		panic("stacks: dms.enabled needs enable_vpc (config validation should have refused it)")
	}
	prefix := cfg.Prefix()

	var subnetIDs []*string
	for _, s := range *st.Vpc.IsolatedSubnets() {
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
		Vpc:              st.Vpc,
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
		MultiAz:                          jsii.Bool(cfg.IsProduction()),
		KmsKeyId:                         st.Key.KeyArn(),
		ReplicationSubnetGroupIdentifier: subnets.Ref(),
		VpcSecurityGroupIds:              jsii.Strings(*sg.SecurityGroupId()),
		AutoMinorVersionUpgrade:          jsii.Bool(true),
	})

	source := newSourceEndpoint(stack, cfg)
	var target awsdms.CfnEndpoint
	if d.Target == "s3" {
		target = newS3Target(stack, cfg, st)
	} else {
		target = newKinesisTarget(stack, cfg, p.stream)
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
		ReplicationTaskSettings:   jsii.String(p.taskSettings),
	})
	output(stack, "ReplicationTaskArn", task.Ref(), "DMS task (start it with aws dms start-replication-task)")
	return task.Ref()
}

// newSourceEndpoint reads its connection (host, port, username, password)
// from the Secrets Manager secret named in config, through a role that may
// read that secret only.
func newSourceEndpoint(stack awscdk.Stack, cfg *config.Config) awsdms.CfnEndpoint {
	d := cfg.DMS
	// Secret access roles must trust the regional DMS principal.
	role := awsiam.NewRole(stack, jsii.String("SourceSecretRole"), &awsiam.RoleProps{
		AssumedBy:   dmsPrincipal(stack, "dms."+cfg.Region+".amazonaws.com"),
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
		EndpointIdentifier: jsii.String(cfg.Prefix() + "-dms-source"),
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
		panic("stacks: dms.source_engine not validated by config: " + d.SourceEngine)
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
func newKinesisTarget(stack awscdk.Stack, cfg *config.Config, stream awskinesis.IStream) awsdms.CfnEndpoint {
	role := awsiam.NewRole(stack, jsii.String("TargetStreamRole"), &awsiam.RoleProps{
		AssumedBy:   dmsPrincipal(stack, "dms.amazonaws.com"),
		Description: jsii.String("DMS writes change records to the ingestion stream"),
	})
	stream.GrantWrite(role)
	// DMS also describes the stream (its documented target policy).
	stream.Grant(role, jsii.String("kinesis:DescribeStream"))
	compliance.GrantWildcards(role, "DMS puts change records on the stream, encrypted with the lake key.")
	return awsdms.NewCfnEndpoint(stack, jsii.String("TargetEndpoint"), &awsdms.CfnEndpointProps{
		EndpointIdentifier: jsii.String(cfg.Prefix() + "-dms-target"),
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
func newS3Target(stack awscdk.Stack, cfg *config.Config, st *Storage) awsdms.CfnEndpoint {
	role := awsiam.NewRole(stack, jsii.String("TargetBucketRole"), &awsiam.RoleProps{
		AssumedBy:   dmsPrincipal(stack, "dms.amazonaws.com"),
		Description: jsii.String("DMS writes files under " + DMSLandingFolder + "/ of the raw bucket"),
	})
	// DMS lists the bucket and puts, tags and deletes its own files.
	st.Raw.GrantReadWrite(role, jsii.String(DMSLandingFolder+"/*"))
	compliance.GrantWildcards(role, "DMS writes its files under landing/ of the raw zone with the lake key.", idRaw)
	return awsdms.NewCfnEndpoint(stack, jsii.String("TargetEndpoint"), &awsdms.CfnEndpointProps{
		EndpointIdentifier: jsii.String(cfg.Prefix() + "-dms-target"),
		EndpointType:       jsii.String("target"),
		EngineName:         jsii.String("s3"),
		S3Settings: &awsdms.CfnEndpoint_S3SettingsProperty{
			BucketName:                   st.Raw.BucketName(),
			BucketFolder:                 jsii.String(DMSLandingFolder),
			ServiceAccessRoleArn:         role.RoleArn(),
			EncryptionMode:               jsii.String("SSE_KMS"),
			ServerSideEncryptionKmsKeyId: st.Key.KeyArn(),
			DataFormat:                   jsii.String("csv"),
			AddColumnName:                jsii.Bool(true),
			IncludeOpForFullLoad:         jsii.Bool(true),
			TimestampColumnName:          jsii.String("_dms_timestamp"),
			CompressionType:              jsii.String("GZIP"),
		},
	})
}

// TableMappings is the DMS table-mapping document: one selection rule per
// table of schema; the table name is the dataset name.
func TableMappings(schema string, tables []string) (string, error) {
	type locator struct {
		Schema string `json:"schema-name"`
		Table  string `json:"table-name"`
	}
	type rule struct {
		Type    string  `json:"rule-type"`
		ID      string  `json:"rule-id"`
		Name    string  `json:"rule-name"`
		Locator locator `json:"object-locator"`
		Action  string  `json:"rule-action"`
	}
	rules := make([]rule, 0, len(tables))
	for i, t := range tables {
		rules = append(rules, rule{
			Type: "selection", ID: fmt.Sprint(i + 1), Name: "include-" + t,
			Locator: locator{Schema: schema, Table: t}, Action: "include",
		})
	}
	b, err := json.Marshal(map[string]any{"rules": rules})
	return string(b), err
}

// DMSLandingPath is the prefix the s3 target writes a table's files under,
// or "" when the dataset is not replicated to S3.
func DMSLandingPath(cfg *config.Config, datasetName string) string {
	if !cfg.DMS.Enabled || cfg.DMS.Target != "s3" || !slices.Contains(cfg.DMS.Tables, datasetName) {
		return ""
	}
	return layout.DMSTable(cfg.DMS.SourceSchema, datasetName)
}

// dmsPrincipal is the DMS service limited to this account (confused-deputy
// protection: another account's DMS cannot use our roles).
func dmsPrincipal(stack awscdk.Stack, service string) awsiam.IPrincipal {
	return awsiam.NewServicePrincipal(jsii.String(service), &awsiam.ServicePrincipalOpts{
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()}},
	})
}
