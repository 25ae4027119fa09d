package test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/stacks"
)

func TestFiveTopLevelStacksPerEnvironment(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		var names []string
		for _, c := range *s.App.Node().Children() {
			if st, ok := c.(awscdk.Stack); ok {
				names = append(names, *st.StackName())
				if *st.StackName() != *st.Node().Id() {
					t.Errorf("stack id %s != stack name %s", *st.Node().Id(), *st.StackName())
				}
			}
		}
		want := []string{}
		for _, l := range stacks.Layers {
			want = append(want, "data-pipeline-"+s.Cfg.Environment.Environment+"-"+l)
		}
		if strings.Join(names, ",") != strings.Join(want, ",") {
			t.Errorf("top-level stacks = %v, want %v", names, want)
		}
	}
}

func TestDependenciesPointOneWay(t *testing.T) {
	deps := map[string][]string{}
	for _, st := range dev.Lake.Stacks() {
		deps[*st.StackName()] = nil
		for _, d := range *st.Dependencies() {
			deps[*st.StackName()] = append(deps[*st.StackName()], strings.TrimPrefix(*d.StackName(), "data-pipeline-dev-"))
		}
	}
	p := "data-pipeline-dev-"
	// Exactly these: storage <- ingestion, processing <- analytics, and
	// observability on everything it watches; nothing points back.
	want := map[string]string{
		p + "storage":       "",
		p + "ingestion":     "storage",
		p + "processing":    "storage",
		p + "analytics":     "processing,storage",
		p + "observability": "analytics,ingestion,processing,storage",
	}
	for stack, w := range want {
		got := deps[stack]
		sort.Strings(got)
		if strings.Join(got, ",") != w {
			t.Errorf("%s depends on [%s], want [%s]", stack, strings.Join(got, ","), w)
		}
	}
}

func TestCrossStackReferenceIsAnImport(t *testing.T) {
	// The stream is encrypted with the storage stack's key: an import.
	check(t, "stream key import", func() {
		dev.tpl("ingestion").HasResourceProperties(jsii.String("AWS::Kinesis::Stream"), map[string]any{
			"StreamEncryption": map[string]any{
				"KeyId": map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String("data-pipeline-dev-storage:ExportsOutput.*LakeKey.*"))},
			},
		})
	})
	if v := dev.App.Node().TryGetContext(jsii.String("@aws-cdk/core:defaultCrossStackReferences")); v != "strong" {
		t.Errorf("cross-stack reference flag = %v, want strong (explicit)", v)
	}
}

func TestTagsOnEveryStack(t *testing.T) {
	for _, st := range prod.Lake.Stacks() {
		tpl := prod.json(strings.TrimPrefix(*st.StackName(), "data-pipeline-prod-"))
		for id, r := range resources(tpl, "AWS::S3::Bucket") {
			tags := tagMap(props(r))
			for _, k := range []string{"project", "environment", "owner", "cost-center", "data-classification"} {
				if tags[k] == "" {
					t.Errorf("%s/%s has no %s tag (tags %v)", *st.StackName(), id, k, tags)
				}
			}
		}
	}
	tags := map[string]string{}
	for _, r := range resources(prod.json("ingestion"), "AWS::Kinesis::Stream") {
		tags = tagMap(props(r))
	}
	if tags["project"] != "data-pipeline" || tags["environment"] != "prod" || tags["owner"] != "data-platform" || tags["cost-center"] != "analytics" || tags["data-classification"] != "confidential" {
		t.Errorf("stream tags = %v", tags)
	}
}

func TestNoUnsuppressedNagErrors(t *testing.T) {
	for _, s := range []*scenario{dev, prod, devCustom} {
		for stack, msgs := range s.errors {
			for _, msg := range msgs {
				t.Errorf("%s: %s", stack, msg)
			}
		}
	}
	for _, msg := range pipelineErrors {
		t.Errorf("pipeline: %s", msg)
	}
}

func TestRetainCheckFiresWhenProdWouldDestroy(t *testing.T) {
	// buildForced set one resource of every stateful type to DESTROY.
	var found []string
	for _, msgs := range prodDestroy.errors {
		for _, msg := range msgs {
			if strings.Contains(msg, "retain check") {
				found = append(found, msg)
			}
		}
	}
	for _, typ := range compliance.StatefulTypes {
		n := 0
		for _, msg := range found {
			if strings.Contains(msg, typ+" has DeletionPolicy") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("want one retain-check error for %s, got %d (all: %v)", typ, n, found)
		}
	}
	// The same check is quiet on the real prod build.
	for _, msg := range prod.errors["data-pipeline-prod-storage"] {
		if strings.Contains(msg, "retain check") {
			t.Errorf("unexpected on prod: %s", msg)
		}
	}
}

func tagMap(p map[string]any) map[string]string {
	out := map[string]string{}
	tags, _ := p["Tags"].([]any)
	for _, t := range tags {
		m := t.(map[string]any)
		out[m["Key"].(string)] = m["Value"].(string)
	}
	return out
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
