package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// testdata/assembly is a three-stack assembly: storage exports a key and a
// bucket, ingestion imports both, observability depends on both.
func TestMarkdownListsStacksAndDependencies(t *testing.T) {
	a, err := LoadAssembly("testdata/assembly")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range a.Stacks {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "app-dev-storage,app-dev-ingestion,app-dev-observability" {
		t.Errorf("stacks = %s, want dependencies first (asset manifests and the tree are not stacks)", got)
	}
	doc := Markdown(a, "dev", "architecture.svg")
	for _, want := range []string{
		"# Architecture (`dev`)",
		"## Data flow\n\n![Data flow of the dev environment](architecture.svg)",
		"```mermaid\nflowchart LR\n",
		"  app_dev_observability --> app_dev_ingestion\n",
		"| `app-dev-observability` | `app-dev-ingestion`, `app-dev-storage` |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("diagram lacks %q:\n%s", want, doc)
		}
	}
	if again := Markdown(a, "dev", "architecture.svg"); again != doc {
		t.Error("output is not deterministic")
	}
}

func TestLoadAssemblyWithoutStacks(t *testing.T) {
	if _, err := LoadAssembly(t.TempDir()); err == nil {
		t.Error("a folder without manifest.json must be an error")
	}
}

// lake returns a small lake: storage with raw, processed and access-log
// buckets; ingestion with an API that writes the stream, a Firehose that
// reads it, hands records to a validator and writes the raw bucket;
// processing with one raw->processed job per dataset (read raw, write
// processed) and a processed table per dataset; analytics with a
// workgroup; observability with an alarm on a topic.
func lake(t *testing.T, datasets ...string) *Assembly {
	t.Helper()
	tpl := func(s string) Template {
		var tp Template
		if err := json.Unmarshal([]byte(s), &tp); err != nil {
			t.Fatalf("bad template %v: %s", err, s)
		}
		return tp
	}
	imp := func(id string) string { return `{"Fn::ImportValue":"app-dev-storage:Export` + id + `"}` }
	path := func(stack, p string) string { return `"Metadata":{"aws:cdk:path":"app-dev-` + stack + `/` + p + `"}` }
	storage := tpl(`{"Resources":{
		"RawB":{"Type":"AWS::S3::Bucket",` + path("storage", "RawBucket/Resource") + `},
		"ProcB":{"Type":"AWS::S3::Bucket",` + path("storage", "ProcessedBucket/Resource") + `},
		"LogsB":{"Type":"AWS::S3::Bucket",` + path("storage", "AccessLogsBucket/Resource") + `}},
	"Outputs":{
		"R":{"Value":{"Fn::GetAtt":["RawB","Arn"]},"Export":{"Name":"app-dev-storage:ExportRawB"}},
		"P":{"Value":{"Fn::GetAtt":["ProcB","Arn"]},"Export":{"Name":"app-dev-storage:ExportProcB"}}}}`)
	ingestion := tpl(`{"Resources":{
		"Api1":{"Type":"AWS::ApiGateway::RestApi",` + path("ingestion", "Api/Resource") + `},
		"Post1":{"Type":"AWS::ApiGateway::Method","Properties":{"RestApiId":{"Ref":"Api1"},"Integration":{"Credentials":{"Fn::GetAtt":["ApiRole","Arn"]}}}},
		"ApiRole":{"Type":"AWS::IAM::Role"},
		"ApiPolicy":{"Type":"AWS::IAM::Policy","Properties":{"Roles":[{"Ref":"ApiRole"}],"PolicyDocument":{"Statement":[
			{"Effect":"Allow","Action":["kinesis:PutRecord","kinesis:PutRecords"],"Resource":{"Fn::GetAtt":["Stream1","Arn"]}}]}}},
		"Stream1":{"Type":"AWS::Kinesis::Stream",` + path("ingestion", "Stream/Resource") + `},
		"Fh1":{"Type":"AWS::KinesisFirehose::DeliveryStream",` + path("ingestion", "DeliveryStream/Resource") + `,"Properties":{
			"KinesisStreamSourceConfiguration":{"RoleARN":{"Fn::GetAtt":["FhRole","Arn"]}},
			"ExtendedS3DestinationConfiguration":{"BucketARN":` + imp("RawB") + `,"ProcessingConfiguration":{"Processors":[{"Parameters":[{"ParameterValue":{"Fn::GetAtt":["Val1","Arn"]}}]}]}}}},
		"FhRole":{"Type":"AWS::IAM::Role"},
		"FhPolicy":{"Type":"AWS::IAM::Policy","Properties":{"Roles":[{"Ref":"FhRole"}],"PolicyDocument":{"Statement":[
			{"Effect":"Allow","Action":["kinesis:GetRecords","kinesis:GetShardIterator"],"Resource":{"Fn::GetAtt":["Stream1","Arn"]}},
			{"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":{"Fn::GetAtt":["Val1","Arn"]}},
			{"Effect":"Allow","Action":["s3:PutObject","s3:GetObject*"],"Resource":[` + imp("RawB") + `,{"Fn::Join":["",[` + imp("RawB") + `,"/*"]]}]}]}}},
		"Val1":{"Type":"AWS::Lambda::Function",` + path("ingestion", "Validator/Resource") + `},
		"Notify":{"Type":"AWS::Lambda::Function",` + path("ingestion", "BucketNotificationsHandler/Resource") + `}}}`)
	res := map[string]any{}
	for _, d := range datasets {
		var r map[string]any
		_ = json.Unmarshal([]byte(`{
			"Job`+d+`":{"Type":"AWS::Glue::Job",`+path("processing", "RawToProcessed-"+d+"/Resource")+`,"Properties":{"Role":{"Fn::GetAtt":["JobRole`+d+`","Arn"]}}},
			"JobRole`+d+`":{"Type":"AWS::IAM::Role"},
			"JobPolicy`+d+`":{"Type":"AWS::IAM::Policy","Properties":{"Roles":[{"Ref":"JobRole`+d+`"}],"PolicyDocument":{"Statement":[
				{"Effect":"Allow","Action":["s3:GetObject*","s3:List*"],"Resource":`+imp("RawB")+`},
				{"Effect":"Allow","Action":["s3:GetObject*","s3:PutObject","s3:DeleteObject*"],"Resource":`+imp("ProcB")+`}]}}},
			"Table`+d+`":{"Type":"AWS::Glue::Table",`+path("processing", "ProcessedTable-"+d+"/Table")+`,"Properties":{"TableInput":{"StorageDescriptor":{"Location":{"Fn::Join":["",["s3://",`+imp("ProcB")+`,"/`+d+`/"]]}}}}}}`), &r)
		for k, v := range r {
			res[k] = v
		}
	}
	pb, _ := json.Marshal(map[string]any{"Resources": res})
	processing := tpl(string(pb))
	analytics := tpl(`{"Resources":{"Wg":{"Type":"AWS::Athena::WorkGroup",` + path("analytics", "WorkGroup") + `}}}`)
	observability := tpl(`{"Resources":{
		"Topic1":{"Type":"AWS::SNS::Topic",` + path("observability", "AlarmTopic/Resource") + `},
		"Al1":{"Type":"AWS::CloudWatch::Alarm","Properties":{"AlarmActions":[{"Ref":"Topic1"}]}}}}`)
	return &Assembly{Stacks: []Stack{
		{Name: "app-dev-storage", Template: storage},
		{Name: "app-dev-ingestion", Template: ingestion},
		{Name: "app-dev-processing", Template: processing},
		{Name: "app-dev-analytics", Template: analytics},
		{Name: "app-dev-observability", Template: observability},
	}}
}

// TestFlowFollowsTheData: the arrows go the way data moves, derived from
// the grants and references; per-dataset resources are one node.
func TestFlowFollowsTheData(t *testing.T) {
	g := Flow(lake(t, "clicks", "orders"))
	var edges []string
	for _, e := range g.sortedEdges() {
		edges = append(edges, e[0]+" -> "+e[1])
	}
	want := []string{
		"alarms -> observability_AlarmTopic",
		"analytics_WorkGroup -> consumers",
		"ingestion_Api -> ingestion_Stream",
		"ingestion_DeliveryStream -> ingestion_Validator",
		"ingestion_Stream -> ingestion_DeliveryStream",
		"ingestion_Validator -> storage_RawBucket",
		"observability_AlarmTopic -> email",
		"processing_ProcessedTable__ -> analytics_WorkGroup",
		"processing_RawToProcessed__ -> storage_ProcessedBucket",
		"producers -> ingestion_Api",
		"producers -> ingestion_Stream",
		"storage_ProcessedBucket -> processing_ProcessedTable__",
		"storage_RawBucket -> processing_RawToProcessed__",
	}
	if strings.Join(edges, "\n") != strings.Join(want, "\n") {
		t.Errorf("edges:\n  %s\nwant:\n  %s", strings.Join(edges, "\n  "), strings.Join(want, "\n  "))
	}
	for _, absent := range []string{"storage_AccessLogsBucket", "ingestion_BucketNotificationsHandler"} {
		if _, ok := g.Nodes[absent]; ok {
			t.Errorf("%s is drawn: it carries no data", absent)
		}
	}
	if n := g.Nodes["processing_RawToProcessed__"]; n == nil || n.Label != "RawToProcessed-*" || n.Kind != "Glue job" {
		t.Errorf("per-dataset job node = %+v", n)
	}
	m := g.Mermaid()
	if !strings.Contains(m, "  alarms -.-> observability_AlarmTopic\n") || !strings.Contains(m, "  ingestion_Api -->") {
		t.Errorf("mermaid: alarms not dashed or data path not solid:\n%s", m)
	}
	d := g.DOT("Data flow: dev")
	if !strings.Contains(d, "  ingestion_Validator -> storage_RawBucket;\n") || !strings.Contains(d, "alarms -> observability_AlarmTopic [style=dashed];") {
		t.Errorf("dot:\n%s", d)
	}
}

// Adding a dataset changes neither the picture nor the document.
func TestFlowDoesNotDependOnTheNumberOfDatasets(t *testing.T) {
	two, three := lake(t, "clicks", "orders"), lake(t, "clicks", "orders", "probe_events")
	if a, b := Flow(two).DOT("x"), Flow(three).DOT("x"); a != b {
		t.Errorf("a third dataset changed the data flow:\n%s\n---\n%s", a, b)
	}
	if a, b := Markdown(two, "dev", "a.svg"), Markdown(three, "dev", "a.svg"); a != b {
		t.Error("a third dataset changed the document")
	}
}

func TestSvgCarriesItsSourceHash(t *testing.T) {
	svg := []byte("<?xml?>\n<!-- dataflow-source: " + SourceHash("digraph{}") + " -->\n<svg></svg>")
	if svgHash(svg) != SourceHash("digraph{}") || svgHash([]byte("<svg/>")) != "" {
		t.Error("the SVG's source hash is not found")
	}
}

// With Graphviz installed (make diagram needs it; .ci/run installs it), the
// rendered SVG carries the hash of its source.
func TestRenderStampsTheSource(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz (dot) is not installed")
	}
	src := Flow(lake(t, "clicks")).DOT("x")
	svg, err := render(src)
	if err != nil {
		t.Fatal(err)
	}
	if svgHash(svg) != SourceHash(src) || !strings.Contains(string(svg), "<svg") || graphvizVersion(svg) == "" {
		t.Errorf("rendered SVG lacks the stamp, the svg element or the version:\n%.400s", svg)
	}
}
