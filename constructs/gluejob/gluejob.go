// Package gluejob is the lake's Glue ETL: the PySpark jobs, the role each
// runs with, their security configuration and network connection, and the
// workflow that chains them (etlworkflow.go). A job has the settings every
// lake job shares (bookmarks, auto scaling, a timeout
// and retries instead of Glue's 48-hour default, one run at a time,
// continuous logging, metrics, the security configuration, the private
// network, Apache Iceberg through the Data Catalog), so a job declares only
// its script, its arguments and what its role may touch.
//
// Jobs and roles keep the caller's scope and id: a job has a fixed name,
// and CloudFormation cannot replace a custom-named resource in place.
package gluejob

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/optional"
)

// Props configure one job.
type Props struct {
	// Name of the job. Required.
	Name string
	// Description. Default: none.
	Description string
	// Script is the job's entry point. Required.
	Script awsglue.Code
	// Library is shipped as --extra-py-files (a zip of Python packages).
	// Default: none.
	Library awsglue.Code
	// Role runs the job; build it with NewRole. Required.
	Role awsiam.Role
	// Arguments are the job's own arguments, names without the leading
	// "--". They may not redefine the shared settings.
	Arguments map[string]string
	// WorkerType is a Glue worker type (G.1X, G.2X, ...). Default: G.1X.
	WorkerType string
	// Workers is the worker ceiling (auto scaling releases idle
	// executors). Default: 2.
	Workers int
	// GlueVersion is 5.0, 5.1 or 6.0. Default: 5.0.
	GlueVersion string
	// TimeoutMinutes stops a run. Default: 60.
	TimeoutMinutes int
	// NotifyDelayAfter makes Glue emit one "Glue Job Run Status" event when
	// a run is still going after it. Default: none.
	NotifyDelayAfter awscdk.Duration
	// MaxRetries of a failed run. Default: 0.
	MaxRetries int
	// Flex runs the job on Flex capacity (cheaper, may start later).
	// Default: false.
	Flex bool
	// SecurityConfiguration encrypts logs, bookmarks and S3 writes.
	// Required.
	SecurityConfiguration awsglue.ISecurityConfiguration
	// Connection puts the job in a private network; the role then may
	// manage the job's network interfaces (AllowNetwork). Default: Glue's
	// own network.
	Connection awsglue.IConnection
	// IcebergWarehouse (s3://bucket/prefix) turns on Glue's Iceberg
	// libraries with the Data Catalog as the Spark catalog glue_catalog.
	// Default: no Iceberg.
	IcebergWarehouse string
}

// IcebergCatalog is the Spark catalog name the jobs address Iceberg tables
// through (glue_catalog.<database>.<table>).
const IcebergCatalog = "glue_catalog"

// sharedArguments are set by New; a job's own Arguments may not repeat them.
var sharedArguments = []string{"job-bookmark-option", "enable-auto-scaling", "enable-glue-datacatalog", "datalake-formats", "conf"}

// New builds the job as scope/id.
func New(scope constructs.Construct, id string, p Props) awsglue.IJob {
	if p.Name == "" || p.Script == nil || p.Role == nil || p.SecurityConfiguration == nil {
		panic("gluejob: Name, Script, Role and SecurityConfiguration are required")
	}
	if p.WorkerType == "" {
		p.WorkerType = "G.1X"
	}
	if p.Workers == 0 {
		p.Workers = 2
	}
	if p.TimeoutMinutes == 0 {
		p.TimeoutMinutes = 60
	}
	args := map[string]*string{
		"--job-bookmark-option":     jsii.String("job-bookmark-enable"),
		"--enable-auto-scaling":     jsii.String("true"),
		"--enable-glue-datacatalog": jsii.String("true"),
	}
	if p.IcebergWarehouse != "" {
		// Glue 5.0 loads its Iceberg 1.7.1 libraries for "--datalake-formats
		// iceberg" (Glue developer guide, aws-glue-programming-etl-format-iceberg.html).
		args["--datalake-formats"] = jsii.String("iceberg")
		args["--conf"] = jsii.String(IcebergConf(p.IcebergWarehouse))
	}
	for _, k := range slices.Sorted(maps.Keys(p.Arguments)) {
		if slices.Contains(sharedArguments, k) {
			panic(fmt.Sprintf("gluejob %s: argument --%s is a shared setting of every job", p.Name, k))
		}
		args["--"+k] = jsii.String(p.Arguments[k])
	}
	var connections *[]awsglue.IConnection
	if p.Connection != nil {
		connections = &[]awsglue.IConnection{p.Connection}
		AllowNetwork(p.Role)
	}
	var extra *[]awsglue.Code
	if p.Library != nil {
		extra = &[]awsglue.Code{p.Library}
	}
	desc := optional.String(p.Description)
	workers := &awsglue.WorkerConfiguration{
		WorkerType:      awsglue.WorkerType(strings.ReplaceAll(p.WorkerType, ".", "_")), // G.1X -> G_1X
		NumberOfWorkers: jsii.Number(float64(p.Workers)),
	}
	timeout := awscdk.Duration_Minutes(jsii.Number(float64(p.TimeoutMinutes)))
	logging := &awsglue.ContinuousLoggingProps{Enabled: jsii.Bool(true)}
	// Two L2 classes with the same props: Flex is a different job class in
	// aws-cdk-lib, not a flag.
	if p.Flex {
		return awsglue.NewPySparkFlexEtlJob(scope, jsii.String(id), &awsglue.PySparkFlexEtlJobProps{
			JobName: jsii.String(p.Name), Description: desc,
			Role: p.Role, Script: p.Script, ExtraPythonFiles: extra,
			GlueVersion: glueVersion(p.GlueVersion), WorkerConfiguration: workers,
			DefaultArguments: &args, Timeout: timeout, MaxRetries: jsii.Number(float64(p.MaxRetries)), NotifyDelayAfter: p.NotifyDelayAfter,
			MaxConcurrentRuns: jsii.Number(1), EnableMetrics: jsii.Bool(true), ContinuousLogging: logging,
			SecurityConfiguration: p.SecurityConfiguration, Connections: connections,
		})
	}
	return awsglue.NewPySparkEtlJob(scope, jsii.String(id), &awsglue.PySparkEtlJobProps{
		JobName: jsii.String(p.Name), Description: desc,
		Role: p.Role, Script: p.Script, ExtraPythonFiles: extra,
		GlueVersion: glueVersion(p.GlueVersion), WorkerConfiguration: workers,
		DefaultArguments: &args, Timeout: timeout, MaxRetries: jsii.Number(float64(p.MaxRetries)), NotifyDelayAfter: p.NotifyDelayAfter,
		MaxConcurrentRuns: jsii.Number(1), EnableMetrics: jsii.Bool(true), ContinuousLogging: logging,
		SecurityConfiguration: p.SecurityConfiguration, Connections: connections,
	})
}

// IcebergConf is the --conf value of an Iceberg job: Glue takes one --conf
// argument, so further settings follow inside its value as " --conf k=v".
func IcebergConf(warehouse string) string {
	c := "spark.sql.catalog." + IcebergCatalog
	settings := []string{
		"spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
		c + "=org.apache.iceberg.spark.SparkCatalog",
		c + ".catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
		c + ".io-impl=org.apache.iceberg.aws.s3.S3FileIO",
		c + ".warehouse=" + warehouse,
	}
	return strings.Join(settings, " --conf ")
}

func glueVersion(v string) awsglue.GlueVersion {
	switch v {
	case "", "5.0":
		return awsglue.GlueVersion_V5_0
	case "5.1":
		return awsglue.GlueVersion_V5_1
	case "6.0":
		return awsglue.GlueVersion_V6_0
	}
	panic(fmt.Sprintf("gluejob: GlueVersion %q is not one of 5.0, 5.1, 6.0", v))
}

// NewRole is a role for a Glue job, crawler or table optimizer with what
// every run needs besides data access: writing its (KMS-encrypted) logs
// and its metrics. Hand-written instead of the AWSGlueServiceRole managed
// policy, which grants every bucket named aws-glue-*.
func NewRole(scope constructs.Construct, id, description string) awsiam.Role {
	role := awsiam.NewRole(scope, jsii.String(id), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil),
		Description: jsii.String(description),
	})
	stack := awscdk.Stack_Of(scope)
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"),
		Resources: jsii.Strings(fmt.Sprintf("arn:%s:logs:%s:%s:log-group:/aws-glue/*",
			*stack.Partition(), *stack.Region(), *stack.Account())),
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("cloudwatch:PutMetricData"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"cloudwatch:namespace": []string{"Glue", "Glue Data Quality"}}},
	}))
	return role
}

// AllowNetwork lets a job (or optimizer) role place its network interfaces
// in the connection's subnet: Glue creates, describes, tags and deletes them
// with the job's role (the statement AWS documents in AWSGlueServiceRole).
// Describe* and the ENI actions take no narrower resource than "*".
// Idempotent: a role shared by several jobs gets the statements once.
func AllowNetwork(role awsiam.Role) {
	if role.Node().TryFindChild(jsii.String("NetworkAllowed")) != nil {
		return
	}
	constructs.NewConstruct(role, jsii.String("NetworkAllowed")) // marker: the statements are there
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
			"ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs", "ec2:DescribeVpcAttribute",
			"ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables"),
		Resources: jsii.Strings("*"),
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:    jsii.Strings("ec2:CreateTags", "ec2:DeleteTags"),
		Resources:  jsii.Strings("arn:" + *awscdk.Stack_Of(role).Partition() + ":ec2:*:*:network-interface/*"),
		Conditions: &map[string]interface{}{"ForAllValues:StringEquals": map[string]interface{}{"aws:TagKeys": []string{"aws-glue-service-resource"}}},
	}))
	compliance.Suppress(role, compliance.Suppression{
		ID:             "AwsSolutions-IAM5",
		Reason:         "Glue creates, describes and deletes the network interfaces of a job or table optimizer in the connection's subnet with its role; EC2 offers no narrower resource for these actions, and tags are limited to aws-glue-service-resource.",
		AppliesToRegex: []string{`/^Resource::\*$/g`, `/^Resource::arn:<AWS::Partition>:ec2:\*:\*:network-interface\/\*$/g`},
	})
}

// AcknowledgeJobRole records the wildcard findings a job role has by
// design: CDK grant action families on the given buckets' prefixes (the
// zones the job reads or writes, nothing else; bucketIDs are the buckets'
// construct ids), its run log groups, the job's script assets and the
// namespace-conditioned metrics permission. why says what the job touches.
func AcknowledgeJobRole(role awsiam.Role, why string, bucketIDs ...string) {
	compliance.GrantWildcards(role, why, bucketIDs...)
	compliance.Suppress(role, compliance.Suppression{
		ID:     "AwsSolutions-IAM5",
		Reason: "The job script and lakelib zip are CDK assets in the bootstrap assets bucket, whose objects the Glue L2 job grants read on; Glue names its run log groups under /aws-glue/ at run time; cloudwatch:PutMetricData (limited to the Glue namespaces by condition) and glue:PublishDataQuality have no resource-level permissions.",
		AppliesToRegex: []string{
			`/^Resource::arn:<AWS::Partition>:logs:.*:log-group:\/aws-glue\/\*$/g`,
			`/^Resource::\*$/g`,
			`/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-.*\/\*$/g`,
		},
	})
}

// NewSecurityConfiguration is the Glue security configuration (scope/id)
// every job and crawler of the lake names: CloudWatch logs and S3 writes
// SSE-KMS with key, job bookmarks client-side encrypted with it.
func NewSecurityConfiguration(scope constructs.Construct, id, name string, key awskms.IKey) awsglue.SecurityConfiguration {
	if name == "" || key == nil {
		panic("gluejob: a security configuration needs a name and a key")
	}
	return awsglue.NewSecurityConfiguration(scope, jsii.String(id), &awsglue.SecurityConfigurationProps{
		SecurityConfigurationName: jsii.String(name),
		CloudWatchEncryption:      awsglue.CloudWatchEncryption_Kms(key),
		JobBookmarksEncryption:    awsglue.JobBookmarksEncryption_ClientSideKms(key),
		S3Encryption:              awsglue.S3Encryption_Kms(key),
	})
}

// NewConnection is a NETWORK connection (scope/id) jobs run in: the subnet
// and the security group. Without one a job runs in Glue's own network,
// outside the VPC and its endpoints (Glue developer guide, "Configuring VPC
// endpoints (AWS PrivateLink) for AWS Glue" and "Setting up networking for
// development for AWS Glue"). The subnet must reach S3, the Data Catalog,
// CloudWatch Logs and metrics, KMS and STS (the network construct's
// endpoints).
func NewConnection(scope constructs.Construct, id, name, description string, subnet awsec2.ISubnet, group awsec2.ISecurityGroup) awsglue.Connection {
	if name == "" || subnet == nil || group == nil {
		panic("gluejob: a connection needs a name, a subnet and a security group")
	}
	conn := awsglue.NewConnection(scope, jsii.String(id), &awsglue.ConnectionProps{
		ConnectionName: jsii.String(name),
		Description:    jsii.String(description),
		Type:           awsglue.ConnectionType_NETWORK(),
		Network:        awsglue.ConnectionNetwork_Subnet(subnet),
		SecurityGroups: &[]awsec2.ISecurityGroup{group},
	})
	// AWS::Glue::Connection has no Tags property (CloudFormation resource
	// schema; cfn-lint E3002): the stack-wide tags must not reach it.
	conn.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(jsii.String("Tags"))
	return conn
}
