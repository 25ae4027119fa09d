// Package bi connects BI tools to the lake's curated tables: QuickSight
// (an Athena data source with its own role and one DIRECT_QUERY dataset per
// table, owned by one principal) and Redshift Spectrum (the role an existing
// Redshift assumes to read the tables through the Glue catalog, and the
// statements to run there).
//
// Resources keep the caller's scope and fixed ids (QuickSightAthenaRole,
// QuickSightDataSource, QuickSightDataSet-<table>, SpectrumRole): QuickSight
// data sources and datasets have fixed ids, and CloudFormation cannot
// replace a custom-named resource in place.
package bi

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsquicksight"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/icebergtable"
	"github.com/example/datalake/constructs/workgroup"
	"github.com/example/datalake/dataset"
)

// Table is one curated table BI tools read.
type Table struct {
	// Name of the table. Required.
	Name string
	// Table is the Apache Iceberg table (its read grant, and the resource
	// a dataset waits for). Required.
	Table *icebergtable.Table
	// Columns other than dt (the QuickSight dataset's input columns).
	Columns []dataset.TableColumn
}

// QuickSightProps configure the QuickSight connection.
type QuickSightProps struct {
	// Prefix names the data source and datasets (<prefix>-athena,
	// <prefix>-<table>). Required.
	Prefix string
	// Principal is the QuickSight user or group ARN that owns them. Required.
	Principal string
	// WorkGroup runs the queries; Results is its results bucket (written
	// with the caller's credentials). Required.
	WorkGroup *workgroup.WorkGroup
	Results   awss3.IBucket
	// Tables are the curated tables, one dataset each, each read in its own
	// catalog database. Required.
	Tables []Table
}

// QuickSight is the built connection.
type QuickSight struct {
	Role       awsiam.Role
	DataSource awsquicksight.CfnDataSource
}

// NewQuickSight builds the QuickSight connection in scope.
//
// Access: the data source names its own role (AthenaParameters.RoleArn)
// instead of adding a policy to aws-quicksight-service-role-v0. That role
// is account-global and managed from the QuickSight console; a policy on it
// would give every QuickSight data source in the account this lake's data,
// and two environments in one account would edit the same role. This role
// is the environment's, built with grants, and deleted with the stack.
func NewQuickSight(scope constructs.Construct, p QuickSightProps) *QuickSight {
	if p.Prefix == "" || p.Principal == "" || p.WorkGroup == nil || p.Results == nil || len(p.Tables) == 0 {
		panic("bi: QuickSight needs Prefix, Principal, WorkGroup, Results and Tables")
	}
	role := awsiam.NewRole(scope, jsii.String("QuickSightAthenaRole"), &awsiam.RoleProps{
		// QuickSight does not document aws:SourceAccount on its role
		// assumption, so the trust names the service only; the role is
		// usable only by data sources that name it, which needs
		// iam:PassRole in this account.
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("quicksight.amazonaws.com"), nil),
		Description: jsii.String("QuickSight queries the " + p.Prefix + " curated zone through Athena"),
	})
	grantTables(role, p.Tables)
	p.Results.GrantReadWrite(role, jsii.String("results/*"))
	p.WorkGroup.GrantQuery(role)
	compliance.GrantWildcards(role, "QuickSight reads the curated tables' prefixes and reads and writes query results.",
		append(bucketIDs(p.Tables), *p.Results.Node().Id())...)

	account := awscdk.Stack_Of(scope).Account()
	source := awsquicksight.NewCfnDataSource(scope, jsii.String("QuickSightDataSource"), &awsquicksight.CfnDataSourceProps{
		AwsAccountId: account,
		DataSourceId: jsii.String(p.Prefix + "-athena"),
		Name:         jsii.String(p.Prefix + " lake (Athena)"),
		Type:         jsii.String("ATHENA"),
		DataSourceParameters: &awsquicksight.CfnDataSource_DataSourceParametersProperty{
			AthenaParameters: &awsquicksight.CfnDataSource_AthenaParametersProperty{
				WorkGroup: p.WorkGroup.Name(),
				RoleArn:   role.RoleArn(),
			},
		},
		Permissions: &[]*awsquicksight.CfnDataSource_ResourcePermissionProperty{{
			Principal: jsii.String(p.Principal),
			Actions: jsii.Strings("quicksight:DescribeDataSource", "quicksight:DescribeDataSourcePermissions",
				"quicksight:PassDataSource", "quicksight:UpdateDataSource", "quicksight:DeleteDataSource",
				"quicksight:UpdateDataSourcePermissions"),
		}},
	})
	// QuickSight checks the connection on create: the role's policy first
	// (the role itself is already a reference).
	source.Node().AddDependency(role.Node().FindChild(jsii.String("DefaultPolicy")))

	for _, t := range p.Tables {
		name := t.Name
		inputs := []*awsquicksight.CfnDataSet_InputColumnProperty{}
		for _, c := range t.Columns {
			inputs = append(inputs, &awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(QuickSightType(c.Type))})
		}
		inputs = append(inputs, &awsquicksight.CfnDataSet_InputColumnProperty{Name: jsii.String("dt"), Type: jsii.String("STRING")})
		ds := awsquicksight.NewCfnDataSet(scope, jsii.String("QuickSightDataSet-"+name), &awsquicksight.CfnDataSetProps{
			AwsAccountId: account,
			DataSetId:    jsii.String(p.Prefix + "-" + name),
			Name:         jsii.String(p.Prefix + " " + name),
			ImportMode:   jsii.String("DIRECT_QUERY"),
			PhysicalTableMap: map[string]*awsquicksight.CfnDataSet_PhysicalTableProperty{
				"curated": {RelationalTable: &awsquicksight.CfnDataSet_RelationalTableProperty{
					DataSourceArn: source.AttrArn(),
					Catalog:       jsii.String("AwsDataCatalog"),
					Schema:        jsii.String(t.Table.DatabaseName()),
					Name:          jsii.String(name),
					InputColumns:  &inputs,
				}},
			},
			Permissions: &[]*awsquicksight.CfnDataSet_ResourcePermissionProperty{{
				Principal: jsii.String(p.Principal),
				Actions: jsii.Strings("quicksight:DescribeDataSet", "quicksight:DescribeDataSetPermissions",
					"quicksight:PassDataSet", "quicksight:DescribeIngestion", "quicksight:ListIngestions",
					"quicksight:UpdateDataSet", "quicksight:DeleteDataSet", "quicksight:CreateIngestion",
					"quicksight:CancelIngestion", "quicksight:UpdateDataSetPermissions"),
			}},
		})
		ds.Node().AddDependency(t.Table.Resource)
	}
	return &QuickSight{Role: role, DataSource: source}
}

// QuickSightType maps a catalog column type onto a QuickSight input type.
func QuickSightType(t string) string {
	switch t {
	case "bigint", "int", "smallint", "tinyint":
		return "INTEGER"
	case "double", "float":
		return "DECIMAL"
	case "boolean":
		return "BOOLEAN"
	case "timestamp", "date":
		return "DATETIME"
	default:
		return "STRING"
	}
}

// SpectrumProps configure Redshift Spectrum access.
type SpectrumProps struct {
	// Prefix is the environment's name (role description). Required.
	Prefix string
	// Type is "serverless" (a namespace) or "provisioned" (a cluster), and
	// Name names it. Required.
	Type, Name string
	// Database is the tables' catalog database and the external schema's
	// name. Required.
	Database string
	// Tables are what Redshift may read. Required.
	Tables []Table
}

// Spectrum is the built access.
type Spectrum struct {
	Role awsiam.Role
	// ExternalSchemaSQL is the statement to run in Redshift, and
	// AssociateCommand the AWS CLI command that associates the role.
	ExternalSchemaSQL, AssociateCommand *string
}

// NewSpectrum builds the role an existing Redshift assumes, in scope.
func NewSpectrum(scope constructs.Construct, p SpectrumProps) *Spectrum {
	if p.Prefix == "" || p.Name == "" || p.Database == "" || len(p.Tables) == 0 || (p.Type != "serverless" && p.Type != "provisioned") {
		panic(fmt.Sprintf("bi: Spectrum needs Prefix, Name, Database, Tables and Type serverless or provisioned (got %q)", p.Type))
	}
	stack := awscdk.Stack_Of(scope)
	sourceAccount := &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()}}
	role := awsiam.NewRole(scope, jsii.String("SpectrumRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("redshift.amazonaws.com"), &awsiam.ServicePrincipalOpts{Conditions: sourceAccount}),
		Description: jsii.String("Redshift " + p.Type + " " + p.Name + " reads the " + p.Prefix + " curated zone (Spectrum)"),
	})
	if p.Type == "serverless" {
		// Serverless workgroups assume the role as redshift-serverless too.
		role.AssumeRolePolicy().AddStatements(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("sts:AssumeRole"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("redshift-serverless.amazonaws.com"), &awsiam.ServicePrincipalOpts{Conditions: sourceAccount})},
		}))
	}
	grantTables(role, p.Tables)
	compliance.GrantWildcards(role, "Redshift Spectrum reads the curated tables' prefixes.", bucketIDs(p.Tables)...)

	sql := awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String(fmt.Sprintf("CREATE EXTERNAL SCHEMA IF NOT EXISTS %s FROM DATA CATALOG DATABASE '%s' IAM_ROLE '", p.Database, p.Database)),
		role.RoleArn(), jsii.String("' REGION '"), stack.Region(), jsii.String("';"),
	})
	associate := "aws redshift modify-cluster-iam-roles --cluster-identifier " + p.Name + " --add-iam-roles "
	if p.Type == "serverless" {
		// update-namespace replaces the list: include roles already there.
		associate = "aws redshift-serverless update-namespace --namespace-name " + p.Name + " --iam-roles <existing roles> "
	}
	return &Spectrum{Role: role, ExternalSchemaSQL: sql,
		AssociateCommand: awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String(associate), role.RoleArn()})}
}

// grantTables grants read on every table (its definition, its files, the
// key: icebergtable.Table.GrantRead).
func grantTables(role awsiam.Role, tables []Table) {
	for _, t := range tables {
		if t.Table == nil {
			panic(fmt.Sprintf("bi: table %q has no Table", t.Name))
		}
		t.Table.GrantRead(role)
	}
}

// bucketIDs are the construct ids of the tables' buckets, for the grant
// wildcard acknowledgement.
func bucketIDs(tables []Table) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tables {
		if id := *t.Table.Bucket().Node().Id(); !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
