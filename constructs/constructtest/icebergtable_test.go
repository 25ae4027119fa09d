package constructtest_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/icebergtable"
)

// icebergBuilt is what the icebergtable tests read.
type icebergBuilt struct {
	tpl       map[string]any
	nagErrors []string
}

// icebergFixture synthesizes the icebergtable stack once, on first use.
var icebergFixture = sync.OnceValue(func() (b icebergBuilt) {
	stack := constructtest.NewStack("Ice")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	bucket := awss3.NewBucket(stack, jsii.String("Bucket"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	cols := []icebergtable.Column{{Name: "id", Type: "string"}, {Name: "at", Type: "timestamp"}}
	maint := awsiam.NewRole(stack, jsii.String("Maint"), &awsiam.RoleProps{AssumedBy: awsiam.NewServicePrincipal(jsii.String("glue.amazonaws.com"), nil)})
	icebergtable.New(stack, "Kept", icebergtable.Props{Database: "db", Name: "kept", Bucket: bucket, Prefix: "kept/", Key: key, Columns: cols,
		Maintenance: &icebergtable.Maintenance{Role: maint, SnapshotRetentionDays: 7, ConnectionName: "net"}})
	icebergtable.New(stack, "Dropped", icebergtable.Props{Database: "db", Name: "dropped", Bucket: bucket, Prefix: "dropped/", Key: key, Columns: cols, DeleteWithStack: true})
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Bucket/", "/Maint/")
	return b
})

func icebergTables() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range constructtest.OfType(icebergFixture().tpl, icebergtable.ResourceType) {
		create := constructtest.JSON(p["Create"])
		for _, n := range []string{"kept", "dropped"} {
			if strings.Contains(create, `\"Name\":\"`+n+`\"`) {
				out[n] = p
			}
		}
	}
	return out
}

// Created once with IcebergInput CREATE v2; never updated; deleted only
// when asked.
func TestCreatedOnceDeletedOnlyWhenAsked(t *testing.T) {
	ts := icebergTables()
	if len(ts) != 2 {
		t.Fatalf("tables = %v", ts)
	}
	for name, p := range ts {
		create := constructtest.JSON(p["Create"])
		for _, want := range []string{`\"action\":\"CreateTable\"`, `\"MetadataOperation\":\"CREATE\"`, `\"Version\":\"2\"`, `\"TableType\":\"EXTERNAL_TABLE\"`, `/` + name + `/\"`} {
			if !strings.Contains(create, want) {
				t.Errorf("%s: Create lacks %s: %s", name, want, create)
			}
		}
		if _, ok := p["Update"]; ok {
			t.Errorf("%s has an update call", name)
		}
	}
	if _, ok := ts["kept"]["Delete"]; ok {
		t.Error("the kept table is deleted with the stack")
	}
	if d := constructtest.JSON(ts["dropped"]["Delete"]); !strings.Contains(d, "DeleteTable") {
		t.Errorf("dropped table delete = %s", d)
	}
}

// One provider role for the stack, writing only to its log group, with
// CreateTable on the tables it creates (not glue:*).
func TestProviderRoleIsScoped(t *testing.T) {
	tpl := icebergFixture().tpl
	if n := len(constructtest.OfType(tpl, "AWS::Lambda::Function")); n != 1 {
		t.Errorf("%d provider functions, want 1", n)
	}
	pol := constructtest.JSON(constructtest.OfType(tpl, "AWS::IAM::Policy"))
	for _, want := range []string{"glue:CreateTable", ":table/db/kept", ":table/db/dropped", "kept/metadata/*", "logs:PutLogEvents"} {
		if !strings.Contains(pol, want) {
			t.Errorf("policies lack %s", want)
		}
	}
	if strings.Contains(pol, `"glue:*"`) || strings.Contains(constructtest.JSON(tpl), "AWSLambdaBasicExecutionRole") {
		t.Error("provider has broad permissions")
	}
}

func TestIcebergTablePassesCdkNag(t *testing.T) {
	for _, e := range icebergFixture().nagErrors {
		t.Error(e)
	}
}

// Maintenance: the three optimizers of the table, with the given and the
// default settings, in the connection, after the table exists; the role may
// rewrite and delete files under the table location only.
func TestMaintenance(t *testing.T) {
	tpl := icebergFixture().tpl
	opts := constructtest.OfType(tpl, "AWS::Glue::TableOptimizer")
	types := map[string]string{}
	for _, o := range opts {
		if o["TableName"] != "kept" {
			t.Errorf("optimizer on %v: only the kept table asked for maintenance", o["TableName"])
		}
		types[o["Type"].(string)] = constructtest.JSON(o["TableOptimizerConfiguration"])
	}
	for typ, want := range map[string][]string{
		"compaction":           {},
		"retention":            {`"SnapshotRetentionPeriodInDays":7`, `"NumberOfSnapshotsToRetain":1`, `"CleanExpiredFiles":true`},
		"orphan_file_deletion": {`"OrphanFileRetentionPeriodInDays":3`, `/kept/"`},
	} {
		got, ok := types[typ]
		if !ok {
			t.Errorf("no %s optimizer", typ)
			continue
		}
		for _, w := range append(want, `"Enabled":true`, `"GlueConnectionName":"net"`) {
			if !strings.Contains(got, w) {
				t.Errorf("%s lacks %s: %s", typ, w, got)
			}
		}
	}
	for id, r := range tpl["Resources"].(map[string]any) {
		m := r.(map[string]any)
		if m["Type"] == "AWS::Glue::TableOptimizer" && !strings.Contains(constructtest.JSON(m["DependsOn"]), "Kept") {
			t.Errorf("%s does not wait for the table: %v", id, m["DependsOn"])
		}
	}
	pol := constructtest.JSON(constructtest.OfType(tpl, "AWS::IAM::Policy"))
	for _, w := range []string{"s3:DeleteObject*", "/kept/*", "glue:UpdateTable"} {
		if !strings.Contains(pol, w) {
			t.Errorf("maintenance role lacks %s", w)
		}
	}
}
