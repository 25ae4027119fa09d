package icebergtable

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
)

var tpl map[string]any
var nagErrors []string

func TestMain(m *testing.M) {
	constructtest.Main(m, func() {
		stack := constructtest.NewStack("Ice")
		key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
		bucket := awss3.NewBucket(stack, jsii.String("Bucket"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
		cols := []Column{{Name: "id", Type: "string"}, {Name: "at", Type: "timestamp"}}
		New(stack, "Kept", Props{Database: "db", Name: "kept", Bucket: bucket, Prefix: "kept/", Key: key, Columns: cols})
		New(stack, "Dropped", Props{Database: "db", Name: "dropped", Bucket: bucket, Prefix: "dropped/", Key: key, Columns: cols, DeleteWithStack: true})
		tpl, nagErrors = constructtest.Synth(stack, "/Bucket/")
	})
}

func tables() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, p := range constructtest.OfType(tpl, ResourceType) {
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
	ts := tables()
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

func TestPassesCdkNag(t *testing.T) {
	for _, e := range nagErrors {
		t.Error(e)
	}
}
