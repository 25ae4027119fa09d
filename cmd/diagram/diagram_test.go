package main

import (
	"strings"
	"testing"
)

// testdata/assembly is a three-stack assembly: storage exports a key and a
// bucket, ingestion imports both (one into a key resource, one into an IAM
// policy), observability imports the stream into an alarm and also depends
// on storage without importing from it.
func TestMarkdownDrawsStacksResourcesAndImports(t *testing.T) {
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
	doc := Markdown(a, "dev")
	for _, want := range []string{
		"# Architecture (`dev`)",
		"```mermaid\nflowchart LR\n",
		`  subgraph app_dev_storage["app-dev-storage"]`,
		`    app_dev_storage_KeyA1["LakeKey<br/><i>KMS key</i>"]`,
		`    app_dev_storage_RawB2["RawBucket<br/><i>S3 bucket</i>"]`,
		`    app_dev_ingestion_AWS__Logs__LogGroup["log groups ×2"]`,
		`    app_dev_observability_AWS__CloudWatch__Alarm["CloudWatch alarms ×2"]`,
		// an import into a key resource: resource to resource
		"  app_dev_storage_KeyA1 --> app_dev_ingestion_Stream1\n",
		// an import into a resource not drawn (IAM policy): to the stack
		"  app_dev_storage_RawB2 --> app_dev_ingestion\n",
		// an import into a grouped resource: to the group
		"  app_dev_ingestion_Stream1 --> app_dev_observability_AWS__CloudWatch__Alarm\n",
		// a dependency without an import: dotted
		"  app_dev_storage -.-> app_dev_observability\n",
		"| `app-dev-observability` | `app-dev-ingestion`, `app-dev-storage` | 2 |",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("diagram lacks %q:\n%s", want, doc)
		}
	}
	for _, unwanted := range []string{"BucketNotificationsHandler", "AWS::IAM::Role", "CDKMetadata", "app_dev_ingestion -.-> ", "app_dev_storage -.-> app_dev_ingestion"} {
		if strings.Contains(doc, unwanted) {
			t.Errorf("diagram has %q:\n%s", unwanted, doc)
		}
	}
	if again := Markdown(a, "dev"); again != doc {
		t.Error("output is not deterministic")
	}
}

func TestLoadAssemblyWithoutStacks(t *testing.T) {
	if _, err := LoadAssembly(t.TempDir()); err == nil {
		t.Error("a folder without manifest.json must be an error")
	}
}
