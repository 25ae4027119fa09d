// Package workgroup is the lake's Athena workgroup: engine 3, settings
// enforced on every query, results in the results bucket encrypted with the
// lake key, a bytes-scanned cutoff and CloudWatch metrics. Athena has no L2
// construct in aws-cdk-lib; this wraps the L1 completely and adds the grant
// and the metric others need.
//
// The workgroup keeps the caller's scope and id (a deployed contract).
package workgroup

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/optional"
)

// Props configure the workgroup.
type Props struct {
	// Name of the workgroup. Required.
	Name string
	// Description. Default: none.
	Description string
	// Results receives query results under results/. Required.
	Results awss3.IBucket
	// Key encrypts the results (SSE-KMS). Required.
	Key awskms.IKey
	// BytesScannedCutoffMB stops a query that scans more. Default: 10240.
	BytesScannedCutoffMB float64
	// RecursiveDelete lets a stack delete remove the workgroup with its
	// saved queries. Default: false.
	RecursiveDelete bool
}

// WorkGroup is the built workgroup.
type WorkGroup struct {
	Resource awsathena.CfnWorkGroup
	name     string
}

// New builds the workgroup as scope/id.
func New(scope constructs.Construct, id string, p Props) *WorkGroup {
	if p.Name == "" || p.Results == nil || p.Key == nil {
		panic("workgroup: Name, Results and Key are required")
	}
	if p.BytesScannedCutoffMB == 0 {
		p.BytesScannedCutoffMB = 10240
	}
	desc := optional.String(p.Description)
	wg := awsathena.NewCfnWorkGroup(scope, jsii.String(id), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(p.Name),
		Description: desc,
		State:       jsii.String("ENABLED"),
		// Deleting a workgroup with saved queries must be deliberate.
		RecursiveDeleteOption: jsii.Bool(p.RecursiveDelete),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			RequesterPaysEnabled:            jsii.Bool(false),
			BytesScannedCutoffPerQuery:      jsii.Number(p.BytesScannedCutoffMB * 1024 * 1024),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("Athena engine version 3"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *p.Results.BucketName() + "/results/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_KMS"),
					KmsKey:           p.Key.KeyArn(),
				},
				ExpectedBucketOwner: awscdk.Stack_Of(scope).Account(),
			},
		},
	})
	return &WorkGroup{Resource: wg, name: p.Name}
}

// Name is the workgroup's name (a reference, so users depend on it).
func (w *WorkGroup) Name() *string { return w.Resource.Ref() }

// GrantQuery lets grantee run and read queries in this workgroup and see
// the account's default data catalog. Hand-written: Athena has no L2 grant.
// Reading the tables themselves needs the catalog and data grants too.
func (w *WorkGroup) GrantQuery(grantee awsiam.IGrantable) {
	stack := awscdk.Stack_Of(w.Resource)
	base := fmt.Sprintf("arn:%s:athena:%s:%s:", *stack.Partition(), *stack.Region(), *stack.Account())
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee: grantee,
		Actions: jsii.Strings("athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
			"athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:BatchGetQueryExecution",
			"athena:ListQueryExecutions", "athena:GetWorkGroup", "athena:GetDataCatalog", "athena:GetDatabase",
			"athena:ListDatabases", "athena:GetTableMetadata", "athena:ListTableMetadata"),
		ResourceArns: jsii.Strings(base+"workgroup/"+w.name, base+"datacatalog/AwsDataCatalog"),
	})
}

// Metric is one of the workgroup's AWS/Athena metrics (ProcessedBytes,
// TotalExecutionTime, QueryQueueTime, ...), dimension WorkGroup.
func (w *WorkGroup) Metric(name string, opts *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	m := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/Athena"), MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{"WorkGroup": w.Name()},
	})
	if opts != nil {
		return m.With(opts)
	}
	return m
}

// SaveQuery saves a named query in the workgroup as scope/id, run in
// database. Users find it in the Athena console's Saved queries.
func (w *WorkGroup) SaveQuery(scope constructs.Construct, id, name, description, database, sql string) awsathena.CfnNamedQuery {
	if name == "" || database == "" || sql == "" {
		panic(fmt.Sprintf("workgroup: query %s needs a name, a database and SQL", id))
	}
	return awsathena.NewCfnNamedQuery(scope, jsii.String(id), &awsathena.CfnNamedQueryProps{
		Name:        jsii.String(name),
		Description: jsii.String(description),
		Database:    jsii.String(database),
		WorkGroup:   w.Name(),
		QueryString: jsii.String(sql),
	})
}
