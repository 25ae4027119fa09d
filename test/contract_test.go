package test

import (
	"encoding/json"
	"flag"
	"os"
	"sort"
	"testing"
)

// The deployed contract: the logical ids of stateful resources. A changed
// id makes CloudFormation replace the resource: a new, empty bucket (the
// old one retained and orphaned), a new key (the old objects unreadable
// through the new one), a new stream, database, log group, topic, trail,
// workgroup or VPC. testdata/stateful-ids.json holds them for dev and prod
// as synthesized by the shipped cdk.json; a refactor must keep every one.
// New stateful resources are allowed (they replace nothing); regenerate
// the file with `go test ./test -run TestStatefulLogicalIDs -update-ids`
// after reviewing the diff. Per-dataset resources are not listed (a
// user's new or removed dataset must not break the suite).
var updateIDs = flag.Bool("update-ids", false, "rewrite testdata/stateful-ids.json from the current synthesis")

var contractTypes = map[string]bool{
	"AWS::S3::Bucket": true, "AWS::KMS::Key": true, "AWS::Kinesis::Stream": true, "AWS::Glue::Database": true,
	"AWS::Logs::LogGroup": true, "AWS::SNS::Topic": true, "AWS::CloudTrail::Trail": true,
	"AWS::Athena::WorkGroup": true, "AWS::EC2::VPC": true, "AWS::DMS::ReplicationInstance": true,
}

const statefulIDsFile = "testdata/stateful-ids.json"

func statefulIDs(s *scenario) map[string]map[string]string {
	out := map[string]map[string]string{}
	for stack, tpl := range s.templates {
		ids := map[string]string{}
		for id, r := range (*tpl.ToJSON())["Resources"].(map[string]any) {
			if typ := r.(map[string]any)["Type"].(string); contractTypes[typ] {
				ids[id] = typ
			}
		}
		out[stack] = ids
	}
	return out
}

func TestStatefulLogicalIDsAreTheDeployedContract(t *testing.T) {
	got := map[string]map[string]map[string]string{"dev": statefulIDs(dev), "prod": statefulIDs(prod)}
	if *updateIDs {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(statefulIDsFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(statefulIDsFile)
	if err != nil {
		t.Fatalf("%v (create it with -update-ids)", err)
	}
	var want map[string]map[string]map[string]string
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	n := 0
	for env, stacks := range want {
		for stack, ids := range stacks {
			keys := make([]string, 0, len(ids))
			for id := range ids {
				keys = append(keys, id)
			}
			sort.Strings(keys)
			for _, id := range keys {
				n++
				if typ, ok := got[env][stack][id]; !ok || typ != ids[id] {
					t.Errorf("%s %s: stateful %s %s is gone or changed type (got %q): deploying this replaces it", env, stack, ids[id], id, typ)
				}
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d pinned ids: the contract file looks truncated", n)
	}
}
