// Command diagram draws the architecture of a synthesized environment as a
// Mermaid flowchart in Markdown: one subgraph per stack, its key resources
// as nodes, and an edge for every cross-stack import (producer resource ->
// consumer). It reads the cloud assembly (manifest.json and the stacks'
// templates), so the picture is what CloudFormation gets, not a drawing.
//
//	go run ./cmd/diagram -assembly cdk.out -env dev -o docs/architecture.md
//	go run ./cmd/diagram -assembly cdk.out -env dev -check docs/architecture.md
//
// -check exits 1 when the file differs from what would be written (make
// test runs it so the committed picture cannot drift; `make diagram`
// regenerates it).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	dir := flag.String("assembly", "cdk.out", "cloud assembly folder (cdk synth -o)")
	env := flag.String("env", "dev", "environment the assembly was synthesized for (shown in the title)")
	out := flag.String("o", "", "file to write (default: stdout)")
	check := flag.String("check", "", "compare with this file instead of writing; exit 1 if it is stale")
	flag.Parse()

	a, err := LoadAssembly(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "diagram:", err)
		os.Exit(1)
	}
	doc := Markdown(a, *env)
	switch {
	case *check != "":
		have, err := os.ReadFile(*check)
		if err != nil || !bytes.Equal(have, []byte(doc)) {
			fmt.Fprintf(os.Stderr, "diagram: %s is stale (or missing): run `make diagram` and commit it\n", *check)
			os.Exit(1)
		}
		fmt.Printf("diagram: %s is current\n", *check)
	case *out != "":
		if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "diagram:", err)
			os.Exit(1)
		}
	default:
		fmt.Print(doc)
	}
}
