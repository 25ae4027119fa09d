package constructtest_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/ingestapi"
	"github.com/example/datalake/dataset"
)

var specs = []dataset.Spec{
	{Name: "page_views", Key: []string{"id"}, EventTimeField: "at", Columns: []dataset.Column{
		{Name: "id", Type: dataset.String, Required: true}, {Name: "at", Type: dataset.Timestamp, Required: true},
		{Name: "ms", Type: dataset.Bigint}, {Name: "kind", Type: dataset.String, Allowed: []string{"a", "b"}},
	}},
	{Name: "refunds", Key: []string{"rid"}, EventTimeField: "day", Columns: []dataset.Column{
		{Name: "rid", Type: dataset.String, Required: true}, {Name: "day", Type: dataset.Date, Required: true},
	}},
}

type ingestapiBuilt struct {
	tpl    map[string]any
	errors []string
}

// ingestapiFixture synthesizes the construct twice on fresh stacks
// (defaults, and every option on), with cdk-nag, and never the whole app;
// once, on first use.
var ingestapiFixture = sync.OnceValue(func() (f struct{ plain, full ingestapiBuilt }) {
	f.plain = ingestapiBuild(ingestapi.Props{})
	f.full = ingestapiBuild(ingestapi.Props{QuotaPerDay: 1000, WAF: true, RateLimit: 7, BurstLimit: 9})
	return f
})

func ingestapiBuild(p ingestapi.Props) ingestapiBuilt {
	stack := constructtest.NewStack("Api")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	stream := awskinesis.NewStream(stack, jsii.String("Stream"), &awskinesis.StreamProps{Encryption: awskinesis.StreamEncryption_KMS, EncryptionKey: key})
	p.Prefix, p.Datasets, p.Stream, p.Key, p.LogRetention = "t-dev", specs, stream, key, awslogs.RetentionDays_ONE_WEEK
	ingestapi.New(stack, p)
	// The test stack's own stream is not this construct's.
	tpl, errs := constructtest.Synth(stack, "/Stream/")
	return ingestapiBuilt{tpl: tpl, errors: errs}
}

func TestOneRouteAndModelPairPerDataset(t *testing.T) {
	plain := ingestapiFixture().plain
	var parts []string
	for _, r := range constructtest.OfType(plain.tpl, "AWS::ApiGateway::Resource") {
		parts = append(parts, r["PathPart"].(string))
	}
	for _, d := range specs {
		if !strings.Contains(" "+strings.Join(parts, " ")+" ", " "+d.Name+" ") {
			t.Errorf("no route for %s in %v", d.Name, parts)
		}
	}
	if got, want := len(constructtest.OfType(plain.tpl, "AWS::ApiGateway::Method")), 2*len(specs); got != want {
		t.Errorf("%d methods, want %d (record and batch per dataset)", got, want)
	}
	if got := len(constructtest.OfType(plain.tpl, "AWS::ApiGateway::Model")); got != 2*len(specs) {
		t.Errorf("%d models, want %d", got, 2*len(specs))
	}
}

func TestBatchPartitionKeyIsPerRecord(t *testing.T) {
	plain := ingestapiFixture().plain
	for _, m := range constructtest.OfType(plain.tpl, "AWS::ApiGateway::Method") {
		tpl, _ := json.Marshal(m["Integration"].(map[string]any)["RequestTemplates"])
		if strings.Contains(string(tpl), "PutRecords") && !strings.Contains(string(tpl), "${context.requestId}-${foreach.index}") {
			t.Errorf("batch template without a per-record partition key: %s", tpl)
		}
	}
}

func TestOptionsAreOffByDefaultAndOnWhenAsked(t *testing.T) {
	plain, full := ingestapiFixture().plain, ingestapiFixture().full
	for typ, want := range map[string][2]int{
		"AWS::WAFv2::WebACL": {0, 1}, "AWS::WAFv2::LoggingConfiguration": {0, 1},
		"AWS::ApiGateway::UsagePlan": {0, 1}, "AWS::ApiGateway::ApiKey": {0, 1},
	} {
		if got := [2]int{len(constructtest.OfType(plain.tpl, typ)), len(constructtest.OfType(full.tpl, typ))}; got != want {
			t.Errorf("%s: %v (default, all on), want %v", typ, got, want)
		}
	}
	stage := constructtest.OfType(full.tpl, "AWS::ApiGateway::Stage")[0]
	ms := stage["MethodSettings"].([]any)[0].(map[string]any)
	if ms["ThrottlingRateLimit"] != 7.0 || ms["ThrottlingBurstLimit"] != 9.0 {
		t.Errorf("throttling = %v", ms)
	}
}

func TestIngestAPIPassesCdkNag(t *testing.T) {
	f := ingestapiFixture()
	for name, b := range map[string]ingestapiBuilt{"defaults": f.plain, "all options": f.full} {
		for _, e := range b.errors {
			t.Errorf("%s: %s", name, e)
		}
	}
}
