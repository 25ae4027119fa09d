package gofunction

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// sourceHash hashes what the binary is built from: the Go files of the
// main package and of every package of this module it imports (from
// `go list -deps`), go.sum (pins third-party code) and the extra files. A
// change to any of them, and only to them, deploys a new function version.
func sourceHash(p Props) string {
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", p.Package)
	cmd.Dir = p.ModuleDir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		panic("gofunction: go list " + p.Package + ": " + err.Error())
	}
	// go list reports directories with symlinks resolved: so must the root,
	// or a checkout under a symlinked path would hash nothing of its own.
	root, err := filepath.EvalSymlinks(p.ModuleDir)
	if err == nil {
		root, err = filepath.Abs(root)
	}
	if err != nil {
		panic("gofunction: " + err.Error())
	}
	var files []string
	for _, dir := range strings.Fields(string(out)) {
		if !strings.HasPrefix(dir, root) {
			continue // third-party: pinned by go.sum
		}
		matches, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, m := range matches {
			if !strings.HasSuffix(m, "_test.go") {
				files = append(files, m)
			}
		}
	}
	files = append(files, filepath.Join(root, "go.sum"))
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			panic("gofunction: " + err.Error())
		}
		rel, _ := filepath.Rel(root, f)
		h.Write([]byte(rel))
		h.Write(b)
	}
	names := make([]string, 0, len(p.Files))
	for n := range p.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		h.Write([]byte(n))
		h.Write(p.Files[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}
