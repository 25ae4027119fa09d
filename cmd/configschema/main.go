// Command configschema writes the JSON Schema of cdk.json (the context keys
// environments, datasets, joins and delivery) from the Go configuration
// types, so editors validate and complete the configuration as the app
// reads it: every key, its type, its allowed values and its documentation
// (the Go doc comment of the field).
//
//	go run ./cmd/configschema -o cdk.schema.json      regenerate
//	go run ./cmd/configschema -check cdk.schema.json  exit 1 when stale
//
// cdk.json names the schema in its "$schema" key (VS Code, JetBrains).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("o", "", "write the schema to this file")
	check := flag.String("check", "", "fail when this file differs from the generated schema")
	root := flag.String("root", ".", "repository root (where config/ and dataset/ are)")
	flag.Parse()
	b, err := Generate(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "configschema:", err)
		os.Exit(1)
	}
	switch {
	case *check != "":
		old, err := os.ReadFile(*check)
		if err != nil || !bytes.Equal(old, b) {
			fmt.Fprintf(os.Stderr, "%s is stale: regenerate it with make schema (go run ./cmd/configschema -o %s) and commit it\n", *check, *check)
			os.Exit(1)
		}
		fmt.Printf("%s is up to date\n", *check)
	case *out != "":
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "configschema:", err)
			os.Exit(1)
		}
	default:
		os.Stdout.Write(b)
	}
}
