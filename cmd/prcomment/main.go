// Command prcomment writes the body of the pull-request comment that the
// diff workflow posts: the `cdk diff` of every stack of one environment and
// the cdk-nag summary from the NagReport CSV files, under a hidden marker
// so the workflow can find and update its one comment.
//
//	go run ./cmd/prcomment -env dev -diff diff.txt -nag cdk.out -sha abc123 > body.md
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	env := flag.String("env", "dev", "environment the diff is of")
	diffFile := flag.String("diff", "", "file holding the output of cdk diff (required)")
	nagDir := flag.String("nag", "cdk.out", "folder with the AwsSolutions-*-NagReport.csv files")
	sha := flag.String("sha", "", "commit the diff was made at")
	flag.Parse()
	if *diffFile == "" {
		fmt.Fprintln(os.Stderr, "prcomment: -diff is required")
		os.Exit(2)
	}
	diff, err := os.ReadFile(*diffFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "prcomment:", err)
		os.Exit(1)
	}
	reports, err := filepath.Glob(filepath.Join(*nagDir, "AwsSolutions-*-NagReport.csv"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "prcomment:", err)
		os.Exit(1)
	}
	nag := map[string][]byte{}
	for _, r := range reports {
		b, err := os.ReadFile(r)
		if err != nil {
			fmt.Fprintln(os.Stderr, "prcomment:", err)
			os.Exit(1)
		}
		nag[filepath.Base(r)] = b
	}
	body, err := Body(Input{Env: *env, SHA: *sha, Diff: string(diff), NagReports: nag})
	if err != nil {
		fmt.Fprintln(os.Stderr, "prcomment:", err)
		os.Exit(1)
	}
	fmt.Print(body)
}
