// Package catalog is the lake's Glue Data Catalog: databases, S3 tables
// partitioned by day with partition projection, and the one read grant
// every reader of catalog tables uses.
//
// Databases and tables keep the caller's scope and id: both have fixed
// names, and CloudFormation cannot replace a custom-named resource.
package catalog

import (
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

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
	var desc *string
	if p.Description != "" {
		desc = jsii.String(p.Description)
	}
	db := awsglue.NewDatabase(scope, jsii.String(id), &awsglue.DatabaseProps{DatabaseName: jsii.String(p.Name), Description: desc})
	removal := awscdk.RemovalPolicy_RETAIN
	if p.Destroy {
		removal = awscdk.RemovalPolicy_DESTROY
	}
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
	var desc *string
	if p.Description != "" {
		desc = jsii.String(p.Description)
	}
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
