package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// CatalogReadActions are what a reader of Glue Data Catalog tables needs:
// resolve the database, read the table definitions and their partitions.
var CatalogReadActions = []string{
	"glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
	"glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
}

// grantCatalogRead is the one grant for every role that reads catalog
// tables (quality jobs, EMR jobs, QuickSight, Redshift Spectrum): the
// read actions on the account's catalog, the database and the named tables
// of that database ("*" for all). Glue authorizes a table read against all
// three: "you must have permissions on the catalog, the database and the
// table" (Glue developer guide, glue-specifying-resource-arns.html); the
// CDK's S3Table.grantRead names the table only, which Glue refuses.
func grantCatalogRead(grantee awsiam.IGrantable, stack awscdk.Stack, database string, tables ...string) {
	base := fmt.Sprintf("arn:%s:glue:%s:%s:", *stack.Partition(), *stack.Region(), *stack.Account())
	resources := []*string{jsii.String(base + "catalog"), jsii.String(base + "database/" + database)}
	for _, t := range tables {
		resources = append(resources, jsii.String(base+"table/"+database+"/"+t))
	}
	awsiam.Grant_AddToPrincipal(&awsiam.GrantOnPrincipalOptions{
		Grantee:      grantee,
		Actions:      jsii.Strings(CatalogReadActions...),
		ResourceArns: &resources,
	})
}
