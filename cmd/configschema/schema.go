package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/example/datalake/config"
	"github.com/example/datalake/dataset"
)

// Schema is the subset of JSON Schema (draft-07) the generator writes.
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Description          string             `json:"description,omitempty"`
	Type                 string             `json:"type,omitempty"`
	Enum                 []any              `json:"enum,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	Minimum              *float64           `json:"minimum,omitempty"`
	Maximum              *float64           `json:"maximum,omitempty"`
	Items                *Schema            `json:"items,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties any                `json:"additionalProperties,omitempty"`
	Not                  *Schema            `json:"not,omitempty"`
}

func num(v float64) *float64 { return &v }

func enum[T any](v ...T) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

// required lists the keys a block must have (the rest have defaults).
var required = map[string][]string{
	"Environment": {"region", "project"},
	"Spec":        {"name", "event_time_field", "key", "columns"},
	"Column":      {"name", "type"},
	"Join":        {"name", "datasets", "on"},
	"Pipeline":    {"project", "account", "region", "connection_arn", "repository", "stages", "alarm_email_address"},
	"Stage":       {"env"},
}

// constraints are the allowed values the validation enforces, where a
// schema can say them (the validation stays the authority).
func constraints() map[string]*Schema {
	workers := make([]string, 0, len(config.WorkerTypes))
	for w := range config.WorkerTypes {
		workers = append(workers, w)
	}
	sort.Strings(workers)
	types := make([]string, len(dataset.Types))
	for i, t := range dataset.Types {
		types[i] = string(t)
	}
	reserved := make([]string, 0, len(dataset.ReservedWords))
	for w := range dataset.ReservedWords {
		reserved = append(reserved, w)
	}
	sort.Strings(reserved)
	ident := &Schema{Pattern: `^[a-z][a-z0-9_]{0,63}$`, Not: &Schema{Enum: enum(reserved...)}}
	return map[string]*Schema{
		"Environment.region":                     {Enum: enum(config.Regions...)},
		"Environment.project":                    {Pattern: `^[a-z][a-z0-9-]{1,18}[a-z0-9]$`},
		"Environment.environment":                {Pattern: `^[a-z]([a-z0-9-]{0,13}[a-z0-9])?$`},
		"Environment.account":                    {Pattern: `^[0-9]{12}$`},
		"Environment.shard_count":                {Minimum: num(1), Maximum: num(20000)},
		"Environment.retention_period":           {Minimum: num(24), Maximum: num(8760)},
		"Environment.worker_type":                {Enum: enum(workers...)},
		"Environment.number_of_workers":          {Minimum: num(2), Maximum: num(299)},
		"Environment.glue_version":               {Enum: enum(config.GlueVersions...)},
		"Environment.stream_mode":                {Enum: enum(config.StreamProvisioned, config.StreamOnDemand)},
		"Environment.log_retention_days":         {Enum: enum(config.LogRetentionValues...)},
		"Environment.raw_classification":         {Enum: enum(dataset.Classifications...)},
		"Environment.processed_classification":   {Enum: enum(dataset.Classifications...)},
		"Environment.curated_classification":     {Enum: enum(dataset.Classifications...)},
		"Environment.audit_object_lock_mode":     {Enum: enum(config.ObjectLockOff, config.ObjectLockGovernance, config.ObjectLockCompliance)},
		"Environment.firehose_buffer_seconds":    {Minimum: num(60), Maximum: num(900)},
		"Environment.firehose_buffer_mb":         {Minimum: num(64), Maximum: num(128)},
		"Environment.target_file_mb":             {Minimum: num(128), Maximum: num(1024)},
		"Environment.snapshot_retention_days":    {Minimum: num(1), Maximum: num(3650)},
		"Environment.snapshots_to_retain":        {Minimum: num(1), Maximum: num(1000)},
		"Environment.orphan_file_retention_days": {Minimum: num(1), Maximum: num(3650)},
		"DMS.source_engine":                      {Enum: enum("mysql", "postgres", "aurora", "aurora-postgresql", "oracle", "sqlserver", "mariadb")},
		"DMS.target":                             {Enum: enum("kinesis", "s3")},
		"Redshift.type":                          {Enum: enum("serverless", "provisioned")},
		"Spec.name":                              ident,
		"Spec.classification":                    {Enum: enum(dataset.Classifications...)},
		"Spec.freshness_hours":                   {Minimum: num(0), Maximum: num(744)},
		"Spec.partitioning":                      {Enum: enum(dataset.Partitionings...)},
		"Spec.key_buckets":                       {Minimum: num(0), Maximum: num(dataset.MaxKeyBuckets)},
		"Column.name":                            ident,
		"Column.type":                            {Enum: enum(types...)},
		"Join.name":                              ident,
		"Pipeline.account":                       {Pattern: `^[0-9]{12}$`},
		"Pipeline.region":                        {Enum: enum(config.Regions...)},
		"Stage.account":                          {Pattern: `^[0-9]{12}$`},
	}
}

// Generate returns the schema of cdk.json, indented, with a final newline.
func Generate(root string) ([]byte, error) {
	docs, err := docComments(filepath.Join(root, "config"), filepath.Join(root, "dataset"))
	if err != nil {
		return nil, err
	}
	g := &gen{docs: docs, defs: map[string]*Schema{}, cons: constraints()}
	context := &Schema{
		Type:        "object",
		Description: "CDK context: the lake's configuration (environments, datasets, joins, delivery) and CDK feature flags.",
		Properties: map[string]*Schema{
			config.KeyEnvironments: {Type: "object", Description: "One block per environment; -c env=NAME selects one (default dev).",
				AdditionalProperties: g.ref(reflect.TypeOf(config.Environment{}))},
			config.KeyDatasets: {Type: "array", Description: "The data sources, shared by all environments: one declaration drives the API models, validator, tables, jobs, quality rules, queries and alarms.",
				Items: g.ref(reflect.TypeOf(dataset.Spec{}))},
			config.KeyJoins: {Type: "array", Description: "Curated joins of two datasets on shared string columns.",
				Items: g.ref(reflect.TypeOf(dataset.Join{}))},
			config.KeyPipeline: g.ref(reflect.TypeOf(config.Pipeline{})),
		},
		AdditionalProperties: true, // feature flags and CDK's own context
	}
	s := map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"title":       "cdk.json of the data lake (generated by go run ./cmd/configschema from the Go config types)",
		"type":        "object",
		"definitions": g.defs,
		"properties": map[string]*Schema{
			"$schema": {Type: "string"},
			"app":     {Type: "string"},
			"context": context,
		},
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

type gen struct {
	docs map[string]map[string]string // type name -> field name -> doc
	defs map[string]*Schema
	cons map[string]*Schema
}

func (g *gen) ref(t reflect.Type) *Schema {
	name := t.Name()
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = nil // recursion guard
		g.defs[name] = g.object(t)
	}
	return &Schema{Ref: "#/definitions/" + name}
}

func (g *gen) object(t reflect.Type) *Schema {
	s := &Schema{Type: "object", Properties: map[string]*Schema{}, AdditionalProperties: false, Required: required[t.Name()]}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("json"), ",")[0]
		if f.Anonymous || key == "" || key == "-" {
			continue
		}
		p := g.field(f.Type)
		if c, ok := g.cons[t.Name()+"."+key]; ok {
			merge(p, c)
		}
		if p.Ref == "" {
			p.Description = g.docs[t.Name()][f.Name]
		}
		s.Properties[key] = p
	}
	return s
}

func (g *gen) field(t reflect.Type) *Schema {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int64:
		return &Schema{Type: "integer"}
	case reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Slice:
		return &Schema{Type: "array", Items: g.field(t.Elem())}
	case reflect.Struct:
		return g.ref(t)
	}
	return &Schema{}
}

func merge(p, c *Schema) {
	target := p
	if p.Type == "array" && p.Items != nil && p.Items.Ref == "" && (c.Enum != nil || c.Pattern != "") {
		target = p.Items
	}
	if c.Enum != nil {
		target.Enum = c.Enum
	}
	if c.Pattern != "" {
		target.Pattern = c.Pattern
	}
	if c.Not != nil {
		target.Not = c.Not
	}
	target.Minimum, target.Maximum = first(c.Minimum, target.Minimum), first(c.Maximum, target.Maximum)
}

func first(a, b *float64) *float64 {
	if a != nil {
		return a
	}
	return b
}

// docComments reads the doc comments of the struct fields in dirs: the
// documentation editors show on hover. A comment shared by a group of
// fields (`// Owner and CostCenter ...` above two fields) goes to each.
func docComments(dirs ...string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, pkg := range pkgs {
			for _, file := range pkg.Files {
				ast.Inspect(file, func(n ast.Node) bool {
					ts, ok := n.(*ast.TypeSpec)
					if !ok {
						return true
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						return false
					}
					fields := map[string]string{}
					last := ""
					for _, f := range st.Fields.List {
						doc := strings.Join(strings.Fields(f.Doc.Text()), " ")
						if doc != "" {
							last = doc
						}
						for _, n := range f.Names {
							switch {
							case doc != "":
								fields[n.Name] = doc
							case strings.Contains(last, n.Name):
								fields[n.Name] = last // the group's comment names it
							}
						}
					}
					out[ts.Name.Name] = fields
					return false
				})
			}
		}
	}
	return out, nil
}
