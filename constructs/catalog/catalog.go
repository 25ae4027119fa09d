// Package catalog is the lake's Glue Data Catalog: databases, S3 tables
// partitioned by day with partition projection, and the one read grant
// every reader of catalog tables uses.
//
// Databases and tables keep the caller's scope and id: both have fixed
// names, and CloudFormation cannot replace a custom-named resource.
package catalog

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/gluejob"
	"github.com/example/datalake/constructs/optional"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/layout"
)

// DefaultProjectionStart is the first day partition projection enumerates.
const DefaultProjectionStart = "2020-01-01"

// ReadActions are what a reader of catalog tables needs: resolve the
// database, read the table definitions and their partitions.
var ReadActions = []string{
	"glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
	"glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
}

// Arns are the account's catalog, the database and the given tables of it
// (a name, or a pattern such as "landing_*"; "*" for all): Glue authorizes
// a table call against all three, "you must have permissions on the
// catalog, the database and the table" (Glue developer guide,
// glue-specifying-resource-arns.html).
func Arns(scope constructs.IConstruct, database string, tables ...string) *[]*string {
	stack := awscdk.Stack_Of(scope)
	base := fmt.Sprintf("arn:%s:glue:%s:%s:", *stack.Partition(), *stack.Region(), *stack.Account())
	out := []*string{jsii.String(base + "catalog"), jsii.String(base + "database/" + database)}
	for _, t := range tables {
		out = append(out, jsii.String(base+"table/"+database+"/"+t))
	}
	return &out
}

// GrantRead is the one grant for every role that reads catalog tables
// (quality jobs, EMR jobs, QuickSight, Redshift Spectrum): ReadActions on
// Arns. The CDK's S3Table.grantRead names the table only, which Glue
// refuses; it still grants the data, which this does not.
// The grantee is a construct (a role) whose stack names the account.
func GrantRead(grantee awsiam.IGrantable, database string, tables ...string) {
	scope, ok := grantee.(constructs.IConstruct)
	if !ok {
		panic("catalog: GrantRead needs a grantee that is a construct (a role)")
	}
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(ReadActions...),
		ResourceArns: Arns(scope, database, tables...),
	})
}

// DatabaseProps configure a database.
type DatabaseProps struct {
	// Name of the database. Required.
	Name string
	// Description. Default: none.
	Description string
	// Destroy lets a stack delete remove the database (and with it the
	// table definitions, not the data). Default: false (retained).
	Destroy bool
}

// NewDatabase builds a database as scope/id.
func NewDatabase(scope constructs.Construct, id string, p DatabaseProps) awsglue.Database {
	if p.Name == "" {
		panic("catalog: DatabaseProps.Name is required")
	}
	desc := optional.String(p.Description)
	db := awsglue.NewDatabase(scope, jsii.String(id), &awsglue.DatabaseProps{DatabaseName: jsii.String(p.Name), Description: desc})
	removal := compliance.Removal(p.Destroy)
	db.ApplyRemovalPolicy(removal)
	return db
}

// TableProps configure a table of objects under s3://Bucket/Prefix/dt=<day>/.
type TableProps struct {
	Database awsglue.IDatabase
	// Name of the table. Required.
	Name        string
	Description string
	// Columns other than dt. Required.
	Columns []dataset.TableColumn
	// Bucket and Prefix (ending in "/") hold the data. Required.
	Bucket awss3.IBucket
	Prefix string
	// Format of the objects. Required.
	Format awsglue.DataFormat
	// Compressed marks gzip objects (JSON). Default: false.
	Compressed bool
	// ProjectionStart is the first day (yyyy-MM-dd) projection enumerates.
	// Default: DefaultProjectionStart.
	ProjectionStart string
}

// NewTable builds a table as scope/id, partitioned by the string column dt
// (YYYY-MM-DD) with partition projection from ProjectionStart to today, so
// a new day is queryable at once, without a crawler or MSCK REPAIR. The
// objects are SSE-KMS with the lake key; readers decrypt with their key
// grant.
func NewTable(scope constructs.Construct, id string, p TableProps) awsglue.S3Table {
	if p.Database == nil || p.Name == "" || len(p.Columns) == 0 || p.Bucket == nil || p.Format == nil || !strings.HasSuffix(p.Prefix, "/") {
		panic(fmt.Sprintf("catalog: table %q needs Database, Name, Columns, Bucket, Format and a Prefix ending in / (got %q)", p.Name, p.Prefix))
	}
	if p.ProjectionStart == "" {
		p.ProjectionStart = DefaultProjectionStart
	}
	cols := make([]*awsglue.Column, len(p.Columns))
	for i, c := range p.Columns {
		if c.Name == layout.DayKey {
			panic(fmt.Sprintf("catalog: table %q declares %s, its partition column", p.Name, layout.DayKey))
		}
		cols[i] = &awsglue.Column{Name: jsii.String(c.Name), Type: awsglue.Schema_Custom(jsii.String(c.Type), jsii.Bool(!strings.HasPrefix(c.Type, "struct<")))}
	}
	desc := optional.String(p.Description)
	return awsglue.NewS3Table(scope, jsii.String(id), &awsglue.S3TableProps{
		Database:      p.Database,
		TableName:     jsii.String(p.Name),
		Description:   desc,
		Columns:       &cols,
		PartitionKeys: &[]*awsglue.Column{{Name: jsii.String(layout.DayKey), Type: awsglue.Schema_STRING()}},
		PartitionProjection: &map[string]awsglue.PartitionProjectionConfiguration{
			layout.DayKey: awsglue.PartitionProjectionConfiguration_Date(&awsglue.DatePartitionProjectionConfigurationProps{
				Format: jsii.String("yyyy-MM-dd"),
				Min:    jsii.String(p.ProjectionStart),
				Max:    jsii.String("NOW"),
				Step:   &awsglue.DateProjectionStep{Interval: jsii.Number(1), IntervalUnit: awsglue.DateIntervalUnit_DAYS},
			}),
		},
		Parameters: &map[string]*string{
			"storage.location.template": jsii.String("s3://" + *p.Bucket.BucketName() + "/" + p.Prefix + layout.DayKey + "=${dt}/"),
		},
		DataFormat:       p.Format,
		Compressed:       jsii.Bool(p.Compressed),
		Storage:          awsglue.S3TableStorage_FromBucket(p.Bucket),
		S3Prefix:         jsii.String(p.Prefix),
		HasEncryptedData: jsii.Bool(true),
	})
}

// CrawlerProps configure a schema-discovery crawler.
type CrawlerProps struct {
	// Name of the crawler. Required.
	Name        string
	Description string
	// Database receives the tables, named TablePrefix + folder. Required.
	Database    awsglue.IDatabase
	TablePrefix string
	// Bucket and Prefix (ending in "/") are crawled. Required.
	Bucket awss3.IBucket
	Prefix string
	// Schedule is a cron expression. Required.
	Schedule string
	// SecurityConfiguration encrypts the crawler's logs. Required.
	SecurityConfiguration awsglue.SecurityConfiguration
}

// NewCrawler builds a crawler as scope/id and its role as scope/<id>Role.
// It crawls new folders only (each run reads what arrived since the last)
// and logs schema changes instead of applying them (incremental crawls
// require LOG), so a bad upload cannot rewrite a table; its tables are
// limited to TablePrefix*. L1: the Glue L2 has no crawler.
func NewCrawler(scope constructs.Construct, id string, p CrawlerProps) awsglue.CfnCrawler {
	if p.Name == "" || p.Database == nil || p.TablePrefix == "" || p.Bucket == nil || !strings.HasSuffix(p.Prefix, "/") || p.Schedule == "" || p.SecurityConfiguration == nil {
		panic(fmt.Sprintf("catalog: crawler %q needs Name, Database, TablePrefix, Bucket, a Prefix ending in / (got %q), Schedule and SecurityConfiguration", p.Name, p.Prefix))
	}
	role := gluejob.NewRole(scope, id+"Role", "Crawls "+p.Prefix+" of its bucket")
	p.Bucket.GrantRead(role, jsii.String(p.Prefix+"*"))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings("glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
			"glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition", "glue:CreatePartition", "glue:BatchCreatePartition", "glue:UpdatePartition"),
		Resources: Arns(scope, *p.Database.DatabaseName(), p.TablePrefix+"*"),
	}))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("glue:GetSecurityConfiguration"),
		Resources: jsii.Strings("*"),
	}))
	config, err := json.Marshal(map[string]any{
		"Version":       1.0,
		"CrawlerOutput": map[string]any{"Partitions": map[string]any{"AddOrUpdateBehavior": "InheritFromTable"}},
		"Grouping":      map[string]any{"TableGroupingPolicy": "CombineCompatibleSchemas"},
	})
	if err != nil {
		panic(err) // a literal map of strings always encodes
	}
	desc := optional.String(p.Description)
	crawler := awsglue.NewCfnCrawler(scope, jsii.String(id), &awsglue.CfnCrawlerProps{
		Name:         jsii.String(p.Name),
		Description:  desc,
		Role:         role.RoleArn(),
		DatabaseName: p.Database.DatabaseName(),
		TablePrefix:  jsii.String(p.TablePrefix),
		Targets: &awsglue.CfnCrawler_TargetsProperty{S3Targets: &[]*awsglue.CfnCrawler_S3TargetProperty{{
			Path: jsii.String("s3://" + *p.Bucket.BucketName() + "/" + p.Prefix),
		}}},
		Schedule:                     &awsglue.CfnCrawler_ScheduleProperty{ScheduleExpression: jsii.String(p.Schedule)},
		RecrawlPolicy:                &awsglue.CfnCrawler_RecrawlPolicyProperty{RecrawlBehavior: jsii.String("CRAWL_NEW_FOLDERS_ONLY")},
		SchemaChangePolicy:           &awsglue.CfnCrawler_SchemaChangePolicyProperty{UpdateBehavior: jsii.String("LOG"), DeleteBehavior: jsii.String("LOG")},
		CrawlerSecurityConfiguration: p.SecurityConfiguration.SecurityConfigurationName(),
		Configuration:                jsii.String(string(config)),
	})
	crawler.Node().AddDependency(p.SecurityConfiguration)
	compliance.GrantWildcards(role, "the crawler reads its prefix.", *p.Bucket.Node().Id())
	compliance.Suppress(role, compliance.Suppression{
		ID:     "AwsSolutions-IAM5",
		Reason: "Glue writes run logs to log groups it names under /aws-glue/ at run time; crawler tables are limited to the table prefix in the catalog database; glue:GetSecurityConfiguration and cloudwatch:PutMetricData (limited by namespace condition) have no resource-level permissions.",
		AppliesToRegex: []string{
			`/^Resource::arn:<AWS::Partition>:logs:.*:log-group:\/aws-glue\/\*$/g`,
			`/^Resource::arn:.*:table\/.*\/` + p.TablePrefix + `\*$/g`,
			`/^Resource::\*$/g`,
		},
	})
	return crawler
}
