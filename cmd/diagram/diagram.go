package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Stack is one CloudFormation stack of the assembly.
type Stack struct {
	Name string
	// DependsOn lists the stacks it depends on (assembly manifest).
	DependsOn []string
	Template  Template
}

// Template is the part of a CloudFormation template the diagram reads.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
	Outputs   map[string]struct {
		Value  any `json:"Value"`
		Export *struct {
			Name any `json:"Name"`
		} `json:"Export"`
	} `json:"Outputs"`
}

// Resource is one template resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

// Assembly is the stacks of one synthesis, sorted by name.
type Assembly struct{ Stacks []Stack }

// LoadAssembly reads manifest.json and every stack template it names.
func LoadAssembly(dir string) (*Assembly, error) {
	var m struct {
		Artifacts map[string]struct {
			Type         string   `json:"type"`
			Dependencies []string `json:"dependencies"`
			Properties   struct {
				TemplateFile string `json:"templateFile"`
				StackName    string `json:"stackName"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	a := &Assembly{}
	for id, art := range m.Artifacts {
		if art.Type != "aws:cloudformation:stack" {
			continue
		}
		name := art.Properties.StackName
		if name == "" {
			name = id
		}
		s := Stack{Name: name}
		tb, err := os.ReadFile(filepath.Join(dir, art.Properties.TemplateFile))
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(tb, &s.Template); err != nil {
			return nil, fmt.Errorf("%s: %w", art.Properties.TemplateFile, err)
		}
		for _, d := range art.Dependencies {
			if t, ok := m.Artifacts[d]; ok && t.Type == "aws:cloudformation:stack" {
				s.DependsOn = append(s.DependsOn, d)
			}
		}
		sort.Strings(s.DependsOn)
		a.Stacks = append(a.Stacks, s)
	}
	if len(a.Stacks) == 0 {
		return nil, fmt.Errorf("%s: no stacks in the assembly (run cdk synth first)", dir)
	}
	// Dependencies first, then by name: the picture reads producer to consumer.
	sort.Slice(a.Stacks, func(i, j int) bool { return a.Stacks[i].Name < a.Stacks[j].Name })
	a.Stacks = topo(a.Stacks)
	return a, nil
}

// topo orders stacks by depth (a stack after the stacks it depends on),
// then by name.
func topo(stacks []Stack) []Stack {
	byName := map[string]Stack{}
	for _, s := range stacks {
		byName[s.Name] = s
	}
	depth := map[string]int{}
	var walk func(name string, seen map[string]bool) int
	walk = func(name string, seen map[string]bool) int {
		if d, ok := depth[name]; ok {
			return d
		}
		if seen[name] { // a cycle cannot deploy anyway
			return 0
		}
		seen[name] = true
		d := 0
		for _, dep := range byName[name].DependsOn {
			d = max(d, walk(dep, seen)+1)
		}
		depth[name] = d
		return d
	}
	for _, s := range stacks {
		walk(s.Name, map[string]bool{})
	}
	out := append([]Stack(nil), stacks...)
	sort.SliceStable(out, func(i, j int) bool {
		if depth[out[i].Name] != depth[out[j].Name] {
			return depth[out[i].Name] < depth[out[j].Name]
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// keyTypes are drawn one node per resource, with a short kind label.
var keyTypes = map[string]string{
	"AWS::KMS::Key":                        "KMS key",
	"AWS::S3::Bucket":                      "S3 bucket",
	"AWS::Kinesis::Stream":                 "Kinesis stream",
	"AWS::KinesisFirehose::DeliveryStream": "Firehose",
	"AWS::Lambda::Function":                "Lambda",
	"AWS::ApiGateway::RestApi":             "REST API",
	"AWS::WAFv2::WebACL":                   "WAF web ACL",
	"AWS::DMS::ReplicationTask":            "DMS task",
	"AWS::EC2::VPC":                        "VPC",
	"AWS::Glue::Database":                  "Glue database",
	"AWS::Glue::Job":                       "Glue job",
	"AWS::Glue::Crawler":                   "Glue crawler",
	"AWS::Glue::Workflow":                  "Glue workflow",
	"AWS::StepFunctions::StateMachine":     "state machine",
	"AWS::EMRServerless::Application":      "EMR Serverless",
	"AWS::Athena::WorkGroup":               "Athena workgroup",
	"AWS::QuickSight::DataSource":          "QuickSight data source",
	"AWS::SNS::Topic":                      "SNS topic",
	"AWS::CloudWatch::Dashboard":           "dashboard",
	"AWS::CloudTrail::Trail":               "CloudTrail",
	"AWS::Budgets::Budget":                 "budget",
}

// groupTypes are drawn as one node per stack and type, with a count.
var groupTypes = map[string]string{
	"AWS::CloudWatch::Alarm":             "CloudWatch alarms",
	"AWS::Glue::Table":                   "Glue tables",
	"AWS::Glue::DataQualityRuleset":      "data quality rulesets",
	"AWS::Glue::Trigger":                 "Glue triggers",
	"AWS::Athena::NamedQuery":            "named queries",
	"AWS::Events::Rule":                  "EventBridge rules",
	"AWS::Config::ConfigRule":            "Config rules",
	"AWS::Logs::LogGroup":                "log groups",
	"AWS::EC2::VPCEndpoint":              "VPC endpoints",
	"AWS::QuickSight::DataSet":           "QuickSight datasets",
	"AWS::RedshiftServerless::Workgroup": "Redshift Serverless",
}

// helperLambda matches functions CDK adds for its own custom resources
// (bucket notifications, auto-delete, log retention, ...): not part of the
// architecture a reader cares about.
var helperLambda = regexp.MustCompile(`(?i)(CustomResourceProvider|BucketNotificationsHandler|AutoDeleteObjects|LogRetention|AWS679f53fac002430cb0da5b7982bd2287|Provider/framework)`)

var nonWord = regexp.MustCompile(`[^A-Za-z0-9_]`)

// node is one drawn box.
type node struct{ id, label string }

// Markdown renders the document.
func Markdown(a *Assembly, env string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Architecture (`%s`)\n\n", env)
	fmt.Fprintf(&b, "<!-- Generated by `make diagram` (cmd/diagram) from `cdk synth -c env=%s`. Do not edit: `make test` fails when this file is stale. -->\n\n", env)
	b.WriteString("Each box is a stack; inside are its key resources (types the lake is built from; CDK helper functions,\n" +
		"IAM roles and policies are left out). An arrow goes from a resource to the stack or resource that\n" +
		"imports it (`Fn::ImportValue`): the only way stacks share resources. A dotted arrow is a stack\n" +
		"dependency without an import.\n\n")
	b.WriteString("```mermaid\nflowchart LR\n")

	// nodeOf maps stack/logicalId to the node drawn for it ("" = none).
	nodeOf := map[string]string{}
	for _, s := range a.Stacks {
		sid := nonWord.ReplaceAllString(s.Name, "_")
		fmt.Fprintf(&b, "  subgraph %s[\"%s\"]\n", sid, s.Name)
		var nodes []node
		groups := map[string]int{}
		ids := sortedKeys(s.Template.Resources)
		for _, id := range ids {
			r := s.Template.Resources[id]
			path, _ := r.Metadata["aws:cdk:path"].(string)
			if kind, ok := keyTypes[r.Type]; ok {
				if r.Type == "AWS::Lambda::Function" && helperLambda.MatchString(path+" "+id) {
					continue
				}
				n := node{id: sid + "_" + nonWord.ReplaceAllString(id, "_"), label: constructName(s.Name, path, id) + "<br/><i>" + kind + "</i>"}
				nodes = append(nodes, n)
				nodeOf[s.Name+"/"+id] = n.id
			} else if _, ok := groupTypes[r.Type]; ok {
				groups[r.Type]++
				nodeOf[s.Name+"/"+id] = sid + "_" + nonWord.ReplaceAllString(r.Type, "_")
			}
		}
		for _, n := range nodes {
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", n.id, n.label)
		}
		for _, t := range sortedKeys(groups) {
			fmt.Fprintf(&b, "    %s_%s[\"%s ×%d\"]\n", sid, nonWord.ReplaceAllString(t, "_"), groupTypes[t], groups[t])
		}
		if len(nodes)+len(groups) == 0 {
			fmt.Fprintf(&b, "    %s_empty[\"(no key resources)\"]\n", sid)
		}
		b.WriteString("  end\n")
	}

	// Exports: export name -> producer stack/logicalId.
	exports := map[string]string{}
	for _, s := range a.Stacks {
		for _, o := range s.Template.Outputs {
			if o.Export == nil {
				continue
			}
			name, ok := o.Export.Name.(string)
			if !ok {
				continue
			}
			if id := refOf(o.Value); id != "" {
				exports[name] = s.Name + "/" + id
			}
		}
	}
	edges := map[string]bool{}
	linked := map[string]bool{} // consumer stack -> producer stack, drawn
	for _, s := range a.Stacks {
		sid := nonWord.ReplaceAllString(s.Name, "_")
		for _, id := range sortedKeys(s.Template.Resources) {
			for _, imp := range imports(s.Template.Resources[id].Properties) {
				producer, ok := exports[imp]
				if !ok {
					continue
				}
				from := nodeOf[producer]
				if from == "" {
					from = nonWord.ReplaceAllString(strings.Split(producer, "/")[0], "_")
				}
				to := nodeOf[s.Name+"/"+id]
				if to == "" {
					to = sid
				}
				edges[from+" --> "+to] = true
				linked[s.Name+"<"+strings.Split(producer, "/")[0]] = true
			}
		}
	}
	for _, e := range sortedKeys(edges) {
		fmt.Fprintf(&b, "  %s\n", e)
	}
	for _, s := range a.Stacks {
		for _, d := range s.DependsOn {
			if !linked[s.Name+"<"+d] {
				fmt.Fprintf(&b, "  %s -.-> %s\n", nonWord.ReplaceAllString(d, "_"), nonWord.ReplaceAllString(s.Name, "_"))
			}
		}
	}
	b.WriteString("```\n\n")

	b.WriteString("| stack | depends on | resources |\n|---|---|---:|\n")
	for _, s := range a.Stacks {
		deps := "—"
		if len(s.DependsOn) > 0 {
			deps = "`" + strings.Join(s.DependsOn, "`, `") + "`"
		}
		n := 0
		for _, r := range s.Template.Resources {
			if r.Type != "AWS::CDK::Metadata" {
				n++
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %d |\n", s.Name, deps, n)
	}
	return b.String()
}

// constructName is the construct path inside the stack, without the
// trailing "Resource"/"Default" that L2 constructs add.
func constructName(stack, path, id string) string {
	p := strings.TrimPrefix(path, stack+"/")
	if p == "" || p == path {
		return id
	}
	p = strings.TrimSuffix(strings.TrimSuffix(p, "/Resource"), "/Default")
	return strings.ReplaceAll(p, "\"", "'")
}

// refOf returns the logical id an output value points at (Ref or GetAtt).
func refOf(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

// imports returns every Fn::ImportValue name inside v.
func imports(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if name, ok := x["Fn::ImportValue"].(string); ok {
			out = append(out, name)
		}
		for _, k := range sortedKeys(x) {
			out = append(out, imports(x[k])...)
		}
	case []any:
		for _, e := range x {
			out = append(out, imports(e)...)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
