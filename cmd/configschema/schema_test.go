package main

import (
	"encoding/json"
	"os"
	"testing"
)

// TestShippedConfigFitsTheSchema walks cdk.json and checks every key it
// uses is a property of the schema (additionalProperties is false, so an
// editor would flag it otherwise), and that a typo is not.
func TestShippedConfigFitsTheSchema(t *testing.T) {
	b, err := Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Definitions map[string]struct {
			Properties           map[string]json.RawMessage `json:"properties"`
			AdditionalProperties *bool                      `json:"additionalProperties"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("../../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var cdk struct {
		Schema  string `json:"$schema"`
		Context struct {
			Environments map[string]map[string]any `json:"environments"`
			Datasets     []map[string]any          `json:"datasets"`
			Joins        []map[string]any          `json:"joins"`
			Delivery     map[string]any            `json:"delivery"`
		} `json:"context"`
	}
	if err := json.Unmarshal(raw, &cdk); err != nil {
		t.Fatal(err)
	}
	if cdk.Schema != "./cdk.schema.json" {
		t.Errorf(`cdk.json "$schema" = %q, want ./cdk.schema.json (editors find the schema through it)`, cdk.Schema)
	}
	has := func(def string, obj map[string]any) {
		d, ok := s.Definitions[def]
		if !ok || d.AdditionalProperties == nil || *d.AdditionalProperties {
			t.Fatalf("definition %s missing or open to unknown keys", def)
		}
		for k := range obj {
			if _, ok := d.Properties[k]; !ok {
				t.Errorf("%s: key %q of cdk.json is not in the schema", def, k)
			}
		}
	}
	for _, e := range cdk.Context.Environments {
		has("Environment", e)
	}
	for _, d := range cdk.Context.Datasets {
		has("Spec", d)
		for _, c := range d["columns"].([]any) {
			has("Column", c.(map[string]any))
		}
	}
	for _, j := range cdk.Context.Joins {
		has("Join", j)
	}
	has("Pipeline", cdk.Context.Delivery)
	for _, st := range cdk.Context.Delivery["stages"].([]any) {
		has("Stage", st.(map[string]any))
	}
	if _, ok := s.Definitions["Column"].Properties["alowed"]; ok {
		t.Error("the schema accepts a typo")
	}
}
