package main

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The data-flow view: the resources that carry data, with an arrow in the
// direction data moves. Everything is read from the templates:
//   - who moves data is a principal (API method, Firehose, Lambda, Glue job,
//     crawler) whose IAM role a policy grants: a write action on a bucket,
//     stream or function draws principal -> resource, a read-only grant
//     draws resource -> principal;
//   - a Firehose with a Lambda processor hands records to it, so what the
//     Firehose writes is drawn from the processor;
//   - a Glue table catalogs the bucket its location names (bucket -> table),
//     and the Athena workgroup queries the tables (table -> workgroup);
//   - alarms point at the topics in their actions (beside the data path).
// Resources made once per dataset or join (RawToProcessed-clickstream,
// DailyTable-orders, ...) are one node ("RawToProcessed-*"), so adding a
// dataset does not change the picture.

// Graph is the data-flow graph of one assembly.
type Graph struct {
	Nodes map[string]*FlowNode
	Edges map[[2]string]bool
}

// FlowNode is one box: a resource, or every resource of one kind that a
// construct repeats per dataset.
type FlowNode struct {
	ID, Label, Kind string
	Lane            string // stack short name (storage, ingestion, ...), or "" for outside AWS
	Beside          bool   // not on the data path (alarms)
}

// flowKinds are the resource types that carry or move data.
var flowKinds = map[string]string{
	"AWS::S3::Bucket":                      "S3 bucket",
	"AWS::Kinesis::Stream":                 "Kinesis stream",
	"AWS::KinesisFirehose::DeliveryStream": "Firehose",
	"AWS::Lambda::Function":                "Lambda",
	"AWS::ApiGateway::RestApi":             "REST API",
	"AWS::Glue::Job":                       "Glue job",
	"AWS::Glue::Crawler":                   "Glue crawler",
	"AWS::Glue::Table":                     "Glue tables",
	"Custom::IcebergTable":                 "Iceberg tables",
	"AWS::Athena::WorkGroup":               "Athena workgroup",
	"AWS::QuickSight::DataSource":          "QuickSight",
	"AWS::EMRServerless::Application":      "EMR Serverless",
	"AWS::DMS::ReplicationTask":            "DMS task",
	"AWS::SNS::Topic":                      "SNS topic",
}

var (
	writeAction = regexp.MustCompile(`^(s3:(PutObject|Abort|DeleteObject)|kinesis:PutRecords?$|firehose:PutRecord|lambda:InvokeFunction)`)
	readAction  = regexp.MustCompile(`^(s3:(GetObject|List)|kinesis:(GetRecords|GetShardIterator|SubscribeToShard|DescribeStream))`)
	perDataset  = regexp.MustCompile(`^([A-Za-z]+)-[a-z][a-z0-9_]*$`)
)

type resKey struct{ stack, id string }

// Flow builds the data-flow graph.
func Flow(a *Assembly) *Graph {
	g := &Graph{Nodes: map[string]*FlowNode{}, Edges: map[[2]string]bool{}}
	exports := exportMap(a)
	res := map[resKey]Resource{}
	for _, s := range a.Stacks {
		for id, r := range s.Template.Resources {
			res[resKey{s.Name, id}] = r
		}
	}
	// nodeFor returns the node of a resource ("" when it carries no data).
	nodeFor := func(k resKey) string {
		r, ok := res[k]
		if !ok {
			return ""
		}
		kind, ok := flowKinds[r.Type]
		if !ok {
			return ""
		}
		path, _ := r.Metadata["aws:cdk:path"].(string)
		if r.Type == "AWS::Lambda::Function" && helperLambda.MatchString(path+" "+k.id) {
			return ""
		}
		name := strings.Split(constructName(k.stack, path, k.id), "/")[0]
		if m := perDataset.FindStringSubmatch(name); m != nil {
			name = m[1] + "-*"
		}
		lane := lane(k.stack)
		id := nonWord.ReplaceAllString(lane+"_"+name, "_")
		if _, ok := g.Nodes[id]; !ok {
			g.Nodes[id] = &FlowNode{ID: id, Label: name, Kind: kind, Lane: lane, Beside: r.Type == "AWS::SNS::Topic"}
		}
		return id
	}
	edge := func(from, to string) {
		if from != "" && to != "" && from != to {
			g.Edges[[2]string{from, to}] = true
		}
	}
	refsOf := func(stack string, v any) []resKey {
		var out []resKey
		for _, r := range references(v) {
			if strings.HasPrefix(r, "import:") {
				if p, ok := exports[strings.TrimPrefix(r, "import:")]; ok {
					st, id, _ := strings.Cut(p, "/")
					out = append(out, resKey{st, id})
				}
				continue
			}
			out = append(out, resKey{stack, r})
		}
		return out
	}

	// Principals: role -> the data-moving resources that use it.
	principals := map[resKey][]string{}
	processor := map[string]string{} // Firehose node -> its Lambda processor node
	for _, s := range a.Stacks {
		for _, id := range sortedKeys(s.Template.Resources) {
			r := s.Template.Resources[id]
			k := resKey{s.Name, id}
			n := nodeFor(k)
			if r.Type == "AWS::ApiGateway::Method" {
				for _, ref := range refsOf(s.Name, r.Properties["RestApiId"]) {
					n = nodeFor(ref)
				}
			}
			if n == "" {
				continue
			}
			for _, ref := range refsOf(s.Name, r.Properties) {
				if rr, ok := res[ref]; ok && rr.Type == "AWS::IAM::Role" {
					principals[ref] = append(principals[ref], n)
				}
			}
			if r.Type == "AWS::KinesisFirehose::DeliveryStream" {
				for _, ref := range refsOf(s.Name, dig(r.Properties, "ExtendedS3DestinationConfiguration", "ProcessingConfiguration")) {
					if p := nodeFor(ref); p != "" && res[ref].Type == "AWS::Lambda::Function" {
						processor[n] = p
					}
				}
			}
			switch r.Type {
			case "AWS::Glue::Table", "Custom::IcebergTable":
				for _, ref := range refsOf(s.Name, r.Properties) {
					if res[ref].Type == "AWS::S3::Bucket" {
						edge(nodeFor(ref), n)
					}
				}
			case "AWS::Athena::WorkGroup", "AWS::CloudWatch::Alarm":
				for _, ref := range refsOf(s.Name, r.Properties) {
					if t := res[ref].Type; t == "AWS::S3::Bucket" || t == "AWS::SNS::Topic" {
						edge(n, nodeFor(ref))
					}
				}
			}
		}
	}
	// Grants: a policy's statements on data resources, for each principal
	// of each role it is attached to.
	for _, s := range a.Stacks {
		for _, id := range sortedKeys(s.Template.Resources) {
			r := s.Template.Resources[id]
			if r.Type != "AWS::IAM::Policy" {
				continue
			}
			var ps []string
			for _, role := range refsOf(s.Name, r.Properties["Roles"]) {
				ps = append(ps, principals[role]...)
			}
			stmts, _ := dig(r.Properties, "PolicyDocument", "Statement").([]any)
			for _, st := range stmts {
				m, _ := st.(map[string]any)
				if m["Effect"] != "Allow" {
					continue
				}
				write, read := false, false
				for _, act := range strs(m["Action"]) {
					write = write || writeAction.MatchString(act)
					read = read || readAction.MatchString(act)
				}
				for _, ref := range refsOf(s.Name, m["Resource"]) {
					d := nodeFor(ref)
					if d == "" || g.Nodes[d].Kind == "Glue tables" || g.Nodes[d].Kind == "Iceberg tables" {
						continue
					}
					for _, p := range ps {
						switch {
						case write:
							edge(p, d)
						case read:
							edge(d, p)
						}
					}
				}
			}
		}
	}
	// A Firehose hands its records to its processor, which returns them:
	// draw the delivery from the processor.
	for fh, p := range processor {
		for e := range g.Edges {
			if e[0] == fh && e[1] != p && g.Nodes[e[1]].Kind == "S3 bucket" {
				delete(g.Edges, e)
				edge(p, e[1])
			}
		}
	}
	// The workgroup queries every table; named queries and BI read from it.
	var tables, workgroups []string
	for _, n := range g.Nodes {
		switch n.Kind {
		case "Glue tables", "Iceberg tables":
			tables = append(tables, n.ID)
		case "Athena workgroup":
			workgroups = append(workgroups, n.ID)
		}
	}
	for _, w := range workgroups {
		for _, t := range tables {
			edge(t, w)
		}
		g.Nodes["consumers"] = &FlowNode{ID: "consumers", Label: "analysts / BI", Kind: "named queries, SQL"}
		edge(w, "consumers")
	}
	// Producers call the API, or put envelopes on the stream themselves.
	for _, n := range g.Nodes {
		if n.Kind == "REST API" || n.Kind == "Kinesis stream" {
			g.Nodes["producers"] = &FlowNode{ID: "producers", Label: "producers", Kind: "apps, exports"}
		}
	}
	for _, n := range sortedKeys(g.Nodes) {
		if k := g.Nodes[n].Kind; k == "REST API" || k == "Kinesis stream" {
			edge("producers", n)
		}
	}
	for _, n := range g.Nodes {
		if n.Kind == "SNS topic" {
			g.Nodes["email"] = &FlowNode{ID: "email", Label: "on-call", Kind: "email", Beside: true}
			edge(n.ID, "email")
		}
	}
	if hasAlarm(a) {
		// Alarm nodes were added by nodeFor only when typed; add the group.
		g.Nodes["alarms"] = &FlowNode{ID: "alarms", Label: "CloudWatch alarms", Kind: "freshness, errors, cost", Lane: "observability", Beside: true}
		for _, n := range g.Nodes {
			if n.Kind == "SNS topic" {
				edge("alarms", n.ID)
			}
		}
	}
	// Drop nodes without edges (access-log and audit buckets, ...).
	linked := map[string]bool{}
	for e := range g.Edges {
		linked[e[0]], linked[e[1]] = true, true
	}
	for id := range g.Nodes {
		if !linked[id] {
			delete(g.Nodes, id)
		}
	}
	return g
}

func hasAlarm(a *Assembly) bool {
	for _, s := range a.Stacks {
		for _, r := range s.Template.Resources {
			if r.Type == "AWS::CloudWatch::Alarm" {
				return true
			}
		}
	}
	return false
}

// lane is the layer part of a stack name (data-pipeline-dev-ingestion ->
// ingestion).
func lane(stack string) string {
	return stack[strings.LastIndex(stack, "-")+1:]
}

func exportMap(a *Assembly) map[string]string {
	exports := map[string]string{}
	for _, s := range a.Stacks {
		for _, o := range s.Template.Outputs {
			if o.Export == nil {
				continue
			}
			if name, ok := o.Export.Name.(string); ok {
				if id := refOf(o.Value); id != "" {
					exports[name] = s.Name + "/" + id
				}
			}
		}
	}
	return exports
}

// references returns the logical ids v refers to (Ref, Fn::GetAtt) and the
// imports ("import:NAME").
func references(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["Ref"].(string); ok && !strings.HasPrefix(r, "AWS::") {
			out = append(out, r)
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			if s, ok := ga[0].(string); ok {
				out = append(out, s)
			}
		}
		if name, ok := x["Fn::ImportValue"].(string); ok {
			out = append(out, "import:"+name)
		}
		for _, k := range sortedKeys(x) {
			out = append(out, references(x[k])...)
		}
	case []any:
		for _, e := range x {
			out = append(out, references(e)...)
		}
	}
	return out
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// laneOrder is the order of the layers from source to consumer.
var laneOrder = []string{"", "ingestion", "storage", "processing", "analytics", "observability"}

func (g *Graph) sortedNodes() []*FlowNode {
	rank := map[string]int{}
	for i, l := range laneOrder {
		rank[l] = i
	}
	var out []*FlowNode
	for _, n := range g.Nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if rank[out[i].Lane] != rank[out[j].Lane] {
			return rank[out[i].Lane] < rank[out[j].Lane]
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func (g *Graph) sortedEdges() [][2]string {
	var out [][2]string
	for e := range g.Edges {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i][0] != out[j][0] {
			return out[i][0] < out[j][0]
		}
		return out[i][1] < out[j][1]
	})
	return out
}

// lanes groups the nodes by lane, lanes in data order.
func (g *Graph) lanes() (order []string, byLane map[string][]*FlowNode) {
	byLane = map[string][]*FlowNode{}
	for _, n := range g.sortedNodes() {
		if _, ok := byLane[n.Lane]; !ok {
			order = append(order, n.Lane)
		}
		byLane[n.Lane] = append(byLane[n.Lane], n)
	}
	return order, byLane
}

// laneColors fill the boxes by stack, so the picture keeps the data order
// left to right and still shows which stack owns what.
var laneColors = map[string]string{
	"": "#ffffff", "ingestion": "#e3eefa", "storage": "#fcefd9", "processing": "#e3f2e3",
	"analytics": "#efe6f8", "observability": "#f8e3e3",
}

func (n *FlowNode) kindLine() string {
	if n.Lane == "" {
		return n.Kind
	}
	return n.Kind + " · " + n.Lane
}

// Mermaid renders the graph as a Mermaid flowchart.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	order, byLane := g.lanes()
	for _, l := range order {
		for _, n := range byLane[l] {
			open, shut := "[\"", "\"]"
			if l == "" {
				open, shut = "([\"", "\"])"
			}
			fmt.Fprintf(&b, "  %s%s%s<br/><i>%s</i>%s\n", n.ID, open, n.Label, n.kindLine(), shut)
		}
	}
	for _, e := range g.sortedEdges() {
		arrow := "-->"
		if g.Nodes[e[0]].Beside || g.Nodes[e[1]].Beside {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s %s\n", e[0], arrow, e[1])
	}
	for _, l := range order {
		if l == "" {
			continue
		}
		var ids []string
		for _, n := range byLane[l] {
			ids = append(ids, n.ID)
		}
		fmt.Fprintf(&b, "  classDef %s fill:%s,stroke:#667788\n  class %s %s\n", l, laneColors[l], strings.Join(ids, ","), l)
	}
	return b.String()
}

// DOT renders the graph for Graphviz (make diagram turns it into SVG).
func (g *Graph) DOT(title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph dataflow {\n  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=12, label=%q, labelloc=t, nodesep=0.25, ranksep=0.45];\n", title)
	b.WriteString("  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11, color=\"#667788\"];\n  edge [color=\"#445566\"];\n")
	order, byLane := g.lanes()
	for _, l := range order {
		for _, n := range byLane[l] {
			shape := ""
			if l == "" {
				shape = ", shape=ellipse"
			}
			fmt.Fprintf(&b, "  %s [label=<%s<br/><font point-size=\"9\">%s</font>>, fillcolor=\"%s\"%s];\n",
				n.ID, htmlEscape(n.Label), htmlEscape(n.kindLine()), laneColors[l], shape)
		}
	}
	for _, e := range g.sortedEdges() {
		style := ""
		if g.Nodes[e[0]].Beside || g.Nodes[e[1]].Beside {
			style = " [style=dashed]"
		}
		fmt.Fprintf(&b, "  %s -> %s%s;\n", e[0], e[1], style)
	}
	b.WriteString("}\n")
	return b.String()
}

// SourceHash names the DOT source an SVG was rendered from: the SVG carries
// it in a comment, so -check finds a stale SVG without Graphviz.
func SourceHash(dot string) string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(dot)))[:16]
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
