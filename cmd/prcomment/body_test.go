package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture reads testdata: a cdk diff output (with the CLI's colours) of one
// changed and one unchanged stack, and two NagReport files.
func fixture(t *testing.T) Input {
	t.Helper()
	diff, err := os.ReadFile("testdata/diff.txt")
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Env: "dev", SHA: "0123456789abcdef", Diff: string(diff), NagReports: map[string][]byte{}}
	files, _ := filepath.Glob("testdata/AwsSolutions-*-NagReport.csv")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in.NagReports[filepath.Base(f)] = b
	}
	return in
}

func TestParseDiffSplitsStacksAndCountsChanges(t *testing.T) {
	got := ParseDiff(fixture(t).Diff)
	if len(got) != 2 {
		t.Fatalf("stacks = %d, want 2: %+v", len(got), got)
	}
	if got[0].Stack != "data-pipeline-dev-storage" || got[0].Changes != 2 {
		t.Errorf("first stack = %s with %d changes, want data-pipeline-dev-storage with 2 (nested property lines do not count)", got[0].Stack, got[0].Changes)
	}
	if got[1].Stack != "data-pipeline-dev-analytics" || got[1].Changes != 0 {
		t.Errorf("second stack = %s with %d changes, want data-pipeline-dev-analytics with 0", got[1].Stack, got[1].Changes)
	}
	if strings.Contains(got[1].Text, "Number of stacks") {
		t.Errorf("the CLI's closing summary belongs to no stack: %q", got[1].Text)
	}
}

func TestParseNagCountsEachCompliance(t *testing.T) {
	in := fixture(t)
	f := "AwsSolutions--data-pipeline-dev-storage-NagReport.csv"
	n, err := ParseNag(f, in.NagReports[f])
	if err != nil {
		t.Fatal(err)
	}
	if n.Stack != "data-pipeline-dev-storage" || n.Compliant != 1 || n.Suppressed != 1 || n.Errors != 1 || n.Warnings != 1 {
		t.Errorf("got %+v", n)
	}
	if len(n.Findings) != 2 || n.Findings[0] != [3]string{"AwsSolutions-IAM5", "data-pipeline-dev-storage/Role/Resource", "Error"} {
		t.Errorf("findings = %v", n.Findings)
	}
	// Reports of stacks inside a pipeline Stage carry the stage name.
	if n, _ := ParseNag("AwsSolutions-prod-data-pipeline-prod-storage-NagReport.csv", nil); n.Stack != "prod-data-pipeline-prod-storage" {
		t.Errorf("stage report stack = %q", n.Stack)
	}
	if _, err := ParseNag("bad.csv", []byte("a,\"b\nc")); err == nil {
		t.Error("a broken CSV must be an error, not an empty summary")
	}
}

func TestBody(t *testing.T) {
	body, err := Body(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(body, "\n")
	if lines[0] != Marker("dev") || Marker("dev") != "<!-- datalake:cdk-diff env=dev -->" {
		t.Errorf("first line = %q, want the hidden marker", lines[0])
	}
	for _, want := range []string{
		"### `cdk diff` and cdk-nag: `dev`",
		"at `0123456`: **1 of 2 stacks change**",
		"| `data-pipeline-dev-storage` | 2 changed resource/output/IAM lines |",
		"| `data-pipeline-dev-analytics` | no differences |",
		":x: 1 unsuppressed errors; 1 warnings, 1 suppressed, 1 compliant checks",
		"| `data-pipeline-dev-storage` | 1 | 1 | 1 | 1 |",
		"| `data-pipeline-dev-analytics` | 0 | 0 | 0 | 0 |",
		"| AwsSolutions-IAM5 | `data-pipeline-dev-storage/Role/Resource` | Error |",
		"````diff\nStack data-pipeline-dev-storage\n",
		"[~] AWS::KMS::Key LakeKey LakeKey09476F72\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "\x1b[") {
		t.Error("body keeps ANSI colour codes")
	}
	if strings.Count(body, "````") != 2 || strings.Count(body, "<details>") != strings.Count(body, "</details>") {
		t.Errorf("unbalanced fences or details:\n%s", body)
	}
}

func TestBodyWithoutFindingsOrChanges(t *testing.T) {
	body, err := Body(Input{Env: "prod", Diff: "Stack a\nThere were no differences\n", NagReports: map[string][]byte{
		"AwsSolutions--a-NagReport.csv": []byte("Rule ID,Resource ID,Compliance,Exception Reason,Rule Level,Rule Info\n\"R\",\"a/x\",\"Compliant\",\"N/A\",\"Error\",\"i\"\n"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{Marker("prod"), "**0 of 1 stacks change**", "no unsuppressed errors", "| `a` | no differences |"} {
		if !strings.Contains(body, want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "Non-compliant findings") {
		t.Error("no findings, yet a findings section")
	}
}

func TestBodyStaysUnderGitHubsLimit(t *testing.T) {
	in := fixture(t)
	in.Diff += "Stack big\n" + strings.Repeat("[+] AWS::SQS::Queue Q Q1234567890\n", 5000)
	body, err := Body(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) > 65536 {
		t.Errorf("body is %d characters, GitHub takes 65,536", len(body))
	}
	if !strings.Contains(body, "The diff is cut here") || !strings.HasSuffix(strings.TrimSpace(body), "</details>") {
		t.Errorf("a cut diff must say so and still close its block:\n%s", body[len(body)-300:])
	}
	if !strings.Contains(body, "| `big` | 5000 changed") {
		t.Error("the summary table must count the whole diff, not the cut text")
	}
}
