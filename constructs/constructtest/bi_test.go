package constructtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/bi"
	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/icebergtable"
	"github.com/example/datalake/constructs/workgroup"
	"github.com/example/datalake/dataset"
)

const principal = "arn:aws:quicksight:us-west-2:123456789012:user/default/analyst"

var biTables = map[string][]dataset.TableColumn{
	"orders_daily": {{Name: "orders", Type: "bigint"}, {Name: "revenue", Type: "double"}, {Name: "last_at", Type: "timestamp"}},
	"activity":     {{Name: "customer_id", Type: "string"}, {Name: "active", Type: "boolean"}},
}

// biBuilt is what the bi tests read.
type biBuilt struct {
	tpl       map[string]any
	nagErrors []string
	misuse    string
}

// biFixture synthesizes the bi stack once, on first use.
var biFixture = sync.OnceValue(func() (b biBuilt) {
	stack := constructtest.NewStack("Bi")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	curated := awss3.NewBucket(stack, jsii.String("CuratedBucket"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true), EncryptionKey: key})
	results := awss3.NewBucket(stack, jsii.String("ResultsBucket"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true), EncryptionKey: key})
	wg := workgroup.New(stack, "WorkGroup", workgroup.Props{Name: "t-wg", Results: results, Key: key})
	var ts []bi.Table
	for _, name := range []string{"orders_daily", "activity"} {
		var cols []icebergtable.Column
		for _, c := range biTables[name] {
			cols = append(cols, icebergtable.Column{Name: c.Name, Type: c.Type})
		}
		ts = append(ts, bi.Table{Name: name, Columns: biTables[name], Table: icebergtable.New(stack, "Table-"+name, icebergtable.Props{
			Database: "t_catalog", Name: name, Columns: cols, Bucket: curated, Prefix: name + "/", Key: key})})
	}
	bi.NewQuickSight(stack, bi.QuickSightProps{Prefix: "t-lake", Principal: principal, WorkGroup: wg, Results: results, Tables: ts})
	bi.NewSpectrum(stack, bi.SpectrumProps{Prefix: "t-lake", Type: "serverless", Name: "lake", Database: "t_catalog", Tables: ts})
	func() {
		defer func() { b.misuse = fmt.Sprint(recover()) }()
		bi.NewSpectrum(stack, bi.SpectrumProps{Prefix: "t", Type: "cluster", Name: "x", Database: "d", Tables: ts})
	}()
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/CuratedBucket/", "/ResultsBucket/", "/Key/")
	return b
})

// One DIRECT_QUERY dataset per table, over the Athena data source, with the
// table's columns typed for QuickSight plus dt; data source and datasets
// are owned by the principal only.
func TestQuickSightDatasetPerTable(t *testing.T) {
	tpl := biFixture().tpl
	sets := constructtest.OfType(tpl, "AWS::QuickSight::DataSet")
	if len(sets) != len(biTables) {
		t.Fatalf("%d datasets, want %d", len(sets), len(biTables))
	}
	for _, ds := range sets {
		rel := ds["PhysicalTableMap"].(map[string]any)["curated"].(map[string]any)["RelationalTable"].(map[string]any)
		name := rel["Name"].(string)
		if ds["DataSetId"] != "t-lake-"+name || ds["ImportMode"] != "DIRECT_QUERY" || rel["Schema"] != "t_catalog" {
			t.Errorf("dataset %s = %s", name, constructtest.JSON(ds))
		}
		inputs := rel["InputColumns"].([]any)
		cols := biTables[name]
		if len(inputs) != len(cols)+1 {
			t.Fatalf("%s inputs = %v", name, inputs)
		}
		for i, c := range cols {
			if in := inputs[i].(map[string]any); in["Name"] != c.Name || in["Type"] != bi.QuickSightType(c.Type) {
				t.Errorf("%s input %d = %v, want %s %s", name, i, in, c.Name, bi.QuickSightType(c.Type))
			}
		}
		if perms := constructtest.JSON(ds["Permissions"]); !strings.Contains(perms, principal) || strings.Count(perms, `"Principal"`) != 1 {
			t.Errorf("%s permissions = %s", name, perms)
		}
	}
	src := constructtest.OfType(tpl, "AWS::QuickSight::DataSource")[0]
	if ath := constructtest.JSON(src["DataSourceParameters"]); !strings.Contains(ath, `"RoleArn"`) || !strings.Contains(ath, `"WorkGroup"`) {
		t.Errorf("data source does not name its role and workgroup: %s", ath)
	}
}

func TestQuickSightTypes(t *testing.T) {
	for in, want := range map[string]string{"bigint": "INTEGER", "int": "INTEGER", "double": "DECIMAL", "boolean": "BOOLEAN",
		"timestamp": "DATETIME", "date": "DATETIME", "string": "STRING", "decimal(10,2)": "STRING"} {
		if got := bi.QuickSightType(in); got != want {
			t.Errorf("QuickSightType(%s) = %s, want %s", in, got, want)
		}
	}
}

// Each role reads every table's definition (catalog, database, table) and
// files (the table's folder: Iceberg's data and metadata), and no other
// folder; Spectrum's trust admits redshift and redshift-serverless from
// this account only.
func TestRolesReadTheTablesOnly(t *testing.T) {
	tpl := biFixture().tpl
	for id, p := range constructtest.OfType(tpl, "AWS::IAM::Policy") {
		pol := constructtest.JSON(p)
		if !strings.Contains(pol, "QuickSight") && !strings.Contains(pol, "Spectrum") {
			continue
		}
		for name := range biTables {
			for _, want := range []string{":table/t_catalog/" + name + `"`, ":database/t_catalog\"", `:catalog"`, `/` + name + `/*"`} {
				if !strings.Contains(pol, want) {
					t.Errorf("policy %d lacks %s for table %s: %s", id, want, name, pol)
				}
			}
		}
		if strings.Contains(pol, "s3:PutObject") && !strings.Contains(pol, "results/*") {
			t.Errorf("policy %d writes outside the results prefix: %s", id, pol)
		}
	}
	if pol := constructtest.JSON(constructtest.OfType(tpl, "AWS::IAM::Policy")); !strings.Contains(pol, "athena:StartQueryExecution") {
		t.Errorf("no role may query the workgroup: %s", pol)
	}
	for _, r := range constructtest.OfType(tpl, "AWS::IAM::Role") {
		trust := constructtest.JSON(r["AssumeRolePolicyDocument"])
		if strings.Contains(trust, "redshift") && (strings.Count(trust, "aws:SourceAccount") != 2 || !strings.Contains(trust, "redshift-serverless.amazonaws.com")) {
			t.Errorf("Spectrum trust = %s", trust)
		}
	}
}

func TestBIMisuseIsNamed(t *testing.T) {
	misuse := biFixture().misuse
	if !strings.Contains(misuse, `Type serverless or provisioned (got "cluster")`) {
		t.Errorf("panic = %q", misuse)
	}
}

func TestBIPassesCdkNag(t *testing.T) {
	for _, e := range biFixture().nagErrors {
		t.Error(e)
	}
}
