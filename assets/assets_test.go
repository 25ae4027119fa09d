package assets

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadTheRepository(t *testing.T) {
	f, err := Load("..")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(f.LakelibZip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, e := range zr.File {
		names[e.Name] = true
	}
	if !names["lakelib/__init__.py"] || !names["lakelib/pipeline.py"] {
		t.Errorf("zip lacks lakelib/ at its root: %v", names)
	}
	again, _ := Load("..")
	if again.LakelibZip != f.LakelibZip {
		t.Errorf("the same sources gave two zips: %s, %s", f.LakelibZip, again.LakelibZip)
	}
	if !strings.HasPrefix(f.DMSTaskSettings, "{") || strings.Contains(f.DMSTaskSettings, "\n") {
		t.Errorf("task settings not compact JSON: %.60s", f.DMSTaskSettings)
	}
}

// A broken repository is an error naming every missing or bad file.
func TestLoadReportsEveryProblem(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "ingestion/dms"), 0o755)
	os.WriteFile(filepath.Join(root, DMSTaskSettings), []byte("[1]"), 0o644)
	_, err := Load(root)
	if err == nil {
		t.Fatal("no error for an empty repository")
	}
	for _, want := range []string{"glue/jobs/raw_to_processed.py", "validator source", "Python package lakelib", "not a JSON object"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
