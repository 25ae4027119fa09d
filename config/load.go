// Package config turns the cdk.json context into a typed, validated
// configuration. It is plain Go (no CDK) so it is cheap to test: every rule
// a user can break has a table-driven test with the message it produces.
package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/example/datalake/dataset"
)

// Context keys read from cdk.json (or -c on the command line).
const (
	KeyEnvironments = "environments"
	KeyDatasets     = "datasets"
	KeyJoins        = "joins"
)

// DefaultEnvironment is selected when `-c env=NAME` is not given.
const DefaultEnvironment = "dev"

// Join is a curated join declaration (context.joins).
type Join = dataset.Join

// Config is everything one environment's stacks need.
type Config struct {
	Environment
	Datasets []dataset.Spec
	Joins    []Join

	// set holds the keys the environment block sets explicitly.
	set map[string]bool
}

// Dataset returns the named dataset declaration.
func (c *Config) Dataset(name string) (dataset.Spec, bool) {
	for _, d := range c.Datasets {
		if d.Name == name {
			return d, true
		}
	}
	return dataset.Spec{}, false
}

// Error lists every problem found in the configuration; synth prints it and
// exits non-zero before anything reaches CloudFormation.
type Error struct {
	Scope    string
	Problems []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid configuration (%s), %d problem(s):\n  - %s",
		e.Scope, len(e.Problems), strings.Join(e.Problems, "\n  - "))
}

// Context is the part of the CDK context the configuration comes from: the
// values of KeyEnvironments, KeyDatasets and KeyJoins as the CDK returns
// them (decoded JSON).
type Context map[string]any

// Names returns the environment names declared in the context, sorted.
func (c Context) Names() []string {
	envs, _ := c[KeyEnvironments].(map[string]any)
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Load returns the validated configuration of the environment `name`.
func Load(ctx Context, name string) (*Config, error) {
	e := &Error{Scope: fmt.Sprintf("environment %q in cdk.json context", name)}
	raw := map[string]json.RawMessage{}
	if v, ok := ctx[KeyEnvironments]; !ok || v == nil {
		e.Problems = append(e.Problems, KeyEnvironments+": missing: declare at least one environment block in cdk.json context")
		return nil, e
	}
	if err := remarshal(ctx[KeyEnvironments], &raw); err != nil {
		e.Problems = append(e.Problems, KeyEnvironments+": must be an object mapping environment names to blocks")
		return nil, e
	}
	block, ok := raw[name]
	if !ok {
		e.Problems = append(e.Problems, fmt.Sprintf("env: %q is not declared in context.%s: use one of %s",
			name, KeyEnvironments, strings.Join(ctx.Names(), ", ")))
		return nil, e
	}
	cfg := &Config{set: map[string]bool{}}
	cfg.Name = name
	path := KeyEnvironments + "." + name
	e.Problems = append(e.Problems, decodeObject(block, &cfg.Environment, path, cfg.set)...)
	var p []string
	cfg.Datasets, p = loadDatasets(ctx)
	e.Problems = append(e.Problems, p...)
	cfg.Joins, p = loadJoins(ctx)
	e.Problems = append(e.Problems, p...)
	// Validate even when some keys did not decode, so every problem is
	// listed at once; a key that failed to decode is reported once, by its
	// decode problem, not again by a rule that sees its zero value.
	decoded := e.Problems
	cfg.applyDefaults()
	for _, v := range cfg.validate(path) {
		if !sameKey(v, decoded) {
			e.Problems = append(e.Problems, v)
		}
	}
	if len(e.Problems) > 0 {
		return nil, e
	}
	return cfg, nil
}

// sameKey reports whether a problem's key (the text before ": ") already
// has a problem in list.
func sameKey(problem string, list []string) bool {
	key, _, _ := strings.Cut(problem, ": ")
	for _, l := range list {
		if k, _, _ := strings.Cut(l, ": "); k == key {
			return true
		}
	}
	return false
}

// LoadAll loads the named environments in order (pipeline mode) and reports
// the problems of all of them at once.
func LoadAll(ctx Context, names []string) ([]*Config, error) {
	var out []*Config
	all := &Error{Scope: "environments " + strings.Join(names, ", ")}
	for _, n := range names {
		c, err := Load(ctx, n)
		if err != nil {
			all.Problems = append(all.Problems, err.(*Error).Problems...)
			continue
		}
		out = append(out, c)
	}
	if len(all.Problems) > 0 {
		return nil, all
	}
	return out, nil
}

func loadDatasets(ctx Context) ([]dataset.Spec, []string) {
	v, ok := ctx[KeyDatasets]
	if !ok || v == nil {
		return nil, []string{KeyDatasets + ": missing: declare at least one dataset"}
	}
	var items []json.RawMessage
	if err := remarshal(v, &items); err != nil {
		return nil, []string{KeyDatasets + ": must be a list of dataset declarations"}
	}
	var out []dataset.Spec
	var p []string
	seen := map[string]bool{}
	for i, item := range items {
		path := fmt.Sprintf("%s[%s]", KeyDatasets, dataset.Label(nameOf(item, "name"), i))
		if seen[nameOf(item, "name")] {
			path = fmt.Sprintf("%s[%d]", KeyDatasets, i)
		}
		var s dataset.Spec
		if dp := decodeObject(item, &s, path, nil); len(dp) > 0 {
			// Keep the declaration (joins and dms tables still find it by
			// name), but check only what decoded: a rule that sees the zero
			// value of a badly typed field would report a knock-on error.
			p = append(p, dp...)
			seen[s.Name] = true
			out = append(out, s.WithDefaults())
			continue
		}
		p = append(p, s.Problems(path)...)
		if seen[s.Name] {
			p = append(p, fmt.Sprintf("%s.name: %q is declared twice", path, s.Name))
		}
		seen[s.Name] = true
		out = append(out, s.WithDefaults())
	}
	if len(items) == 0 {
		p = append(p, KeyDatasets+": is empty: declare at least one dataset")
	}
	return out, p
}

func loadJoins(ctx Context) ([]Join, []string) {
	v, ok := ctx[KeyJoins]
	if !ok || v == nil {
		return nil, nil // joins are optional
	}
	var items []json.RawMessage
	if err := remarshal(v, &items); err != nil {
		return nil, []string{KeyJoins + ": must be a list of join declarations"}
	}
	var out []Join
	var p []string
	for i, item := range items {
		var j Join
		if dp := decodeObject(item, &j, fmt.Sprintf("%s[%s]", KeyJoins, dataset.Label(nameOf(item, "name"), i)), nil); len(dp) > 0 {
			p = append(p, dp...)
			continue
		}
		out = append(out, j)
	}
	return out, p
}

// nameOf returns the string value of key in a JSON object, or "": the name
// that identifies a list element in a problem's path.
func nameOf(raw json.RawMessage, key string) string {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(obj[key], &s) != nil {
		return ""
	}
	return s
}

// labelKeys are the keys whose value names a list element in paths
// (datasets[orders].columns[amount], delivery.stages[prod]).
var labelKeys = []string{"name", "env"}

// remarshal turns a decoded JSON value (as the CDK returns context) back
// into JSON and decodes it into target.
func remarshal(v any, target any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, target)
}

// decodeObject decodes a JSON object into the struct target points to, one
// key at a time, so that every unknown key and every badly typed value is
// reported (encoding/json stops at the first). Nested structs are decoded
// the same way. The keys found are recorded in set (if not nil), nested
// ones as "block.key", so defaults never overwrite a value a user wrote.
func decodeObject(raw json.RawMessage, target any, path string, set map[string]bool) []string {
	return decodeInto(raw, target, path, set, "")
}

func decodeInto(raw json.RawMessage, target any, path string, set map[string]bool, setPrefix string) []string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return []string{fmt.Sprintf("%s: must be a JSON object, got %s", path, abbreviate(raw))}
	}
	fields := jsonFields(reflect.TypeOf(target).Elem())
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var p []string
	v := reflect.ValueOf(target).Elem()
	for _, k := range keys {
		idx, ok := fields[k]
		if set != nil {
			set[setPrefix+k] = true
		}
		if !ok {
			p = append(p, fmt.Sprintf("%s.%s: unknown key%s; allowed keys: %s",
				path, k, suggest(k, fields), strings.Join(sortedKeys(fields), ", ")))
			continue
		}
		f := v.Field(idx)
		if f.Kind() == reflect.Struct {
			p = append(p, decodeInto(obj[k], f.Addr().Interface(), path+"."+k, set, setPrefix+k+".")...)
			continue
		}
		if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
			p = append(p, decodeList(obj[k], f, path+"."+k)...)
			continue
		}
		if err := json.Unmarshal(obj[k], f.Addr().Interface()); err != nil {
			p = append(p, fmt.Sprintf("%s.%s: %s is not a valid %s", path, k, abbreviate(obj[k]), typeName(f.Type())))
		}
	}
	return p
}

// decodeList decodes a JSON list of objects into the slice f, each element
// key by key like decodeObject, so an unknown or badly typed key inside an
// element (a column's "alowed") is reported with the element's name.
func decodeList(raw json.RawMessage, f reflect.Value, path string) []string {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return []string{fmt.Sprintf("%s: must be a list of objects, got %s", path, abbreviate(raw))}
	}
	elem := f.Type().Elem()
	out := reflect.MakeSlice(f.Type(), len(items), len(items))
	var p []string
	seen := map[string]bool{}
	for i, item := range items {
		name := ""
		for _, k := range labelKeys {
			if _, ok := jsonFields(elem)[k]; ok {
				name = nameOf(item, k)
				break
			}
		}
		label := dataset.Label(name, i)
		if seen[name] {
			label = fmt.Sprint(i)
		}
		seen[name] = true
		p = append(p, decodeInto(item, out.Index(i).Addr().Interface(), fmt.Sprintf("%s[%s]", path, label), nil, "")...)
	}
	f.Set(out)
	return p
}

func jsonFields(t reflect.Type) map[string]int {
	out := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			continue
		}
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		out[tag] = i
	}
	return out
}

func typeName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Int, reflect.Int64:
		return "whole number"
	case reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice:
		return "list of " + typeName(t.Elem()) + "s"
	default:
		return t.Kind().String()
	}
}

func abbreviate(raw json.RawMessage) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest names the closest known key when a typo is likely.
func suggest(k string, fields map[string]int) string {
	best, bestD := "", 4
	for f := range fields {
		if d := levenshtein(k, f); d < bestD || (d == bestD && f < best) {
			best, bestD = f, d
		}
	}
	if best == "" {
		// A shortened or extended key (event_time for event_time_field).
		for _, f := range sortedKeys(fields) {
			if len(k) >= 3 && (strings.HasPrefix(f, k) || strings.HasPrefix(k, f)) {
				best = f
				break
			}
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
