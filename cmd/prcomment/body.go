package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// MaxBody keeps the comment under GitHub's 65,536-character limit with
// room for the summary; the full diff is cut at a line boundary past it.
const MaxBody = 60000

// Input is what the comment is made of.
type Input struct {
	// Env is the environment (the marker carries it, so one comment per
	// environment and pull request).
	Env string
	// SHA is the commit diffed; shown shortened. Optional.
	SHA string
	// Diff is the raw output of `cdk diff` (ANSI colours are removed).
	Diff string
	// NagReports maps a report's file name
	// (AwsSolutions-<stage>-<stack>-NagReport.csv) to its contents.
	NagReports map[string][]byte
}

// Marker is the hidden first line the workflow finds its comment by.
func Marker(env string) string { return "<!-- datalake:cdk-diff env=" + env + " -->" }

// StackDiff is one stack's part of the diff.
type StackDiff struct {
	Stack string
	// Changes counts resource, output and IAM lines marked [+], [-], [~].
	Changes int
	Text    string
}

// NagCount counts one stack's cdk-nag results.
type NagCount struct {
	Stack                                   string
	Compliant, Suppressed, Errors, Warnings int
	// Findings are the non-compliant rows: rule, resource, level.
	Findings [][3]string
}

var (
	ansi       = regexp.MustCompile("\x1b\\[[0-9;]*m")
	changeLine = regexp.MustCompile(`^\s*\[[-+~]\]`)
)

// ParseDiff splits `cdk diff` output into stacks ("Stack NAME" headers).
func ParseDiff(out string) []StackDiff {
	var stacks []StackDiff
	closed := true // before the first header and after the CLI's summary
	for _, line := range strings.Split(ansi.ReplaceAllString(out, ""), "\n") {
		if name, ok := strings.CutPrefix(line, "Stack "); ok && !strings.Contains(name, " ") {
			stacks = append(stacks, StackDiff{Stack: name})
			closed = false
		}
		if strings.Contains(line, "Number of stacks with differences") {
			closed = true
		}
		if closed {
			continue
		}
		cur := &stacks[len(stacks)-1]
		cur.Text += line + "\n"
		if changeLine.MatchString(line) {
			cur.Changes++
		}
	}
	for i := range stacks {
		stacks[i].Text = strings.TrimRight(stacks[i].Text, "\n") + "\n"
	}
	return stacks
}

// ParseNag counts a NagReport CSV. The stack name comes from the file name.
func ParseNag(file string, data []byte) (NagCount, error) {
	name := strings.TrimSuffix(strings.TrimPrefix(file, "AwsSolutions-"), "-NagReport.csv")
	n := NagCount{Stack: strings.TrimLeft(name, "-")}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return n, fmt.Errorf("%s: %w", file, err)
	}
	for i, r := range rows {
		if i == 0 || len(r) < 5 {
			continue // header
		}
		switch r[2] {
		case "Compliant":
			n.Compliant++
		case "Suppressed":
			n.Suppressed++
		case "Non-Compliant":
			if r[4] == "Error" {
				n.Errors++
			} else {
				n.Warnings++
			}
			n.Findings = append(n.Findings, [3]string{r[0], r[1], r[4]})
		}
	}
	return n, nil
}

// Body renders the comment.
func Body(in Input) (string, error) {
	var b strings.Builder
	fmt.Fprintln(&b, Marker(in.Env))
	fmt.Fprintf(&b, "### `cdk diff` and cdk-nag: `%s`\n\n", in.Env)

	stacks := ParseDiff(in.Diff)
	changed := 0
	for _, s := range stacks {
		if s.Changes > 0 {
			changed++
		}
	}
	at := ""
	if in.SHA != "" {
		at = fmt.Sprintf(" at `%.7s`", in.SHA)
	}
	fmt.Fprintf(&b, "Against what is deployed%s: **%d of %d stacks change**.\n\n", at, changed, len(stacks))
	if len(stacks) > 0 {
		fmt.Fprintln(&b, "| stack | changes |\n|---|---|")
		for _, s := range stacks {
			c := "no differences"
			if s.Changes > 0 {
				c = fmt.Sprintf("%d changed resource/output/IAM lines", s.Changes)
			}
			fmt.Fprintf(&b, "| `%s` | %s |\n", cell(s.Stack), c)
		}
		fmt.Fprintln(&b)
	}

	var nags []NagCount
	files := make([]string, 0, len(in.NagReports))
	for f := range in.NagReports {
		files = append(files, f)
	}
	sort.Strings(files)
	var total NagCount
	for _, f := range files {
		n, err := ParseNag(f, in.NagReports[f])
		if err != nil {
			return "", err
		}
		nags = append(nags, n)
		total.Compliant += n.Compliant
		total.Suppressed += n.Suppressed
		total.Errors += n.Errors
		total.Warnings += n.Warnings
	}
	if len(nags) == 0 {
		fmt.Fprintln(&b, "**cdk-nag**: no NagReport files found.")
	} else {
		status := "no unsuppressed errors"
		if total.Errors > 0 {
			status = fmt.Sprintf(":x: %d unsuppressed errors", total.Errors)
		}
		fmt.Fprintf(&b, "**cdk-nag (AwsSolutions)**: %s; %d warnings, %d suppressed, %d compliant checks.\n\n", status, total.Warnings, total.Suppressed, total.Compliant)
		fmt.Fprintln(&b, "| stack | compliant | suppressed | errors | warnings |\n|---|---:|---:|---:|---:|")
		for _, n := range nags {
			fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d |\n", cell(n.Stack), n.Compliant, n.Suppressed, n.Errors, n.Warnings)
		}
		fmt.Fprintln(&b)
		if total.Errors+total.Warnings > 0 {
			fmt.Fprintln(&b, "<details><summary>Non-compliant findings</summary>\n\n| rule | resource | level |\n|---|---|---|")
			for _, n := range nags {
				for _, f := range n.Findings {
					fmt.Fprintf(&b, "| %s | `%s` | %s |\n", cell(f[0]), cell(f[1]), cell(f[2]))
				}
			}
			fmt.Fprint(&b, "\n</details>\n\n")
		}
	}

	var full strings.Builder
	for _, s := range stacks {
		full.WriteString(s.Text)
	}
	text, cut := truncate(full.String(), MaxBody-b.Len())
	fmt.Fprintln(&b, "<details><summary>Full diff</summary>\n\n````diff")
	b.WriteString(text)
	fmt.Fprintln(&b, "````")
	if cut {
		fmt.Fprintln(&b, "\n*The diff is cut here (comment size limit): see the workflow log for all of it.*")
	}
	fmt.Fprintln(&b, "\n</details>")
	return b.String(), nil
}

// cell keeps a value from breaking a Markdown table row.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// truncate cuts s to at most n bytes at a line boundary.
func truncate(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	if n < 0 {
		n = 0
	}
	s = s[:n]
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i+1]
	}
	return s, true
}
