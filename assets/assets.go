// Package assets loads the files the stacks ship from the repository: the
// Glue job scripts, the lakelib package zipped for --extra-py-files, the
// DMS task settings and the validator's source folder. app.go (and the
// tests) call Load once; a missing or broken file is an error that names
// it, never a panic in the middle of a synthesis.
package assets

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Paths inside the repository.
const (
	JobsDir          = "glue/jobs"
	LakelibDir       = "glue/lakelib"
	DMSTaskSettings  = "ingestion/dms/task-settings.json"
	ValidatorPackage = "./functions/validator"
)

// JobScripts are the Glue job scripts the processing stack deploys.
var JobScripts = []string{"raw_to_processed.py", "quality_check.py", "processed_to_curated.py"}

// Files are the loaded assets.
type Files struct {
	// Root is the repository (Go module) root.
	Root string
	// Scripts maps a job script name to its path.
	Scripts map[string]string
	// LakelibZip is a zip of glue/lakelib with the lakelib/ folder at its
	// root (what --extra-py-files needs), in the temp folder, named by its
	// content hash: the same sources always give the same bytes and asset.
	LakelibZip string
	// DMSTaskSettings is the replication task settings, compact JSON.
	DMSTaskSettings string
}

// Load reads every asset under root.
func Load(root string) (*Files, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	f := &Files{Root: abs, Scripts: map[string]string{}}
	var problems []string
	for _, s := range JobScripts {
		p := filepath.Join(abs, JobsDir, s)
		if _, err := os.Stat(p); err != nil {
			problems = append(problems, fmt.Sprintf("Glue job script %s: %v", filepath.Join(JobsDir, s), err))
		}
		f.Scripts[s] = p
	}
	if _, err := os.Stat(filepath.Join(abs, ValidatorPackage, "main.go")); err != nil {
		problems = append(problems, fmt.Sprintf("validator source %s: %v", ValidatorPackage, err))
	}
	if f.LakelibZip, err = zipPackage(filepath.Join(abs, "glue"), "lakelib"); err != nil {
		problems = append(problems, err.Error())
	}
	if f.DMSTaskSettings, err = compactJSONObject(filepath.Join(abs, DMSTaskSettings)); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("assets under %s:\n  - %s", abs, strings.Join(problems, "\n  - "))
	}
	return f, nil
}

func compactJSONObject(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("DMS task settings: %v", err)
	}
	var settings map[string]any
	if err := json.Unmarshal(raw, &settings); err != nil {
		return "", fmt.Errorf("DMS task settings %s: not a JSON object: %v", path, err)
	}
	b, err := json.Marshal(settings)
	return string(b), err
}

// zipPackage zips dir/pkg (Python files only, sorted, fixed timestamps)
// and returns the zip's path in the temp folder, named by its content hash.
func zipPackage(dir, pkg string) (string, error) {
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, pkg), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".py") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("Python package %s: %v", pkg, err)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("Python package %s: no .py files under %s", pkg, filepath.Join(dir, pkg))
	}
	sort.Strings(files)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		rel, err := filepath.Rel(dir, f)
		if err != nil {
			return "", err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate, Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return "", err
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if _, err := w.Write(b); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	out := filepath.Join(os.TempDir(), fmt.Sprintf("%s-%x.zip", pkg, sum[:8]))
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("writing %s: %v", out, err)
	}
	return out, nil
}
