// Package test holds whole-app assertions on the synthesized templates.
// Every scenario is synthesized once per test binary (TestMain); tests only
// read the results. Never t.Parallel(): jsii runs one Node.js process.
package test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/stacks"
)

// scenario is one synthesized app.
type scenario struct {
	App  awscdk.App
	Cfg  *config.Config
	Lake *stacks.DataLake
	// templates by stack name, parsed once.
	templates map[string]assertions.Template
	// errors by stack name: error annotations (cdk-nag, retain check) read
	// from the one synthesis, not from Annotations_FromStack, which
	// re-synthesizes on every call.
	errors map[string][]string
	// jsonText by layer: each template as JSON text, fetched through jsii
	// once (a ToJSON round trip costs 15-35 ms; the tests ask hundreds of
	// times).
	jsonText map[string][]byte
}

var (
	cdkContext config.Context
	// files are the repository assets, loaded once.
	files     *assets.Files
	dev, prod *scenario
	// devCustom turns the optional features on (VPC, on-demand stream, ...).
	devCustom *scenario
	// prodDestroy builds prod with destroy forced past config validation, to
	// prove the retain check still catches it.
	prodDestroy    *scenario
	pipeline       *stacks.Pipeline
	pipelineTpl    assertions.Template
	pipelineErrors []string
)

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	os.Setenv("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
	var err error
	cdkContext, err = readContext()
	if err == nil {
		files, err = assets.Load("..")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer func() {
			if r := recover(); r != nil {
				fmt.Fprintln(os.Stderr, "synth failed:", r)
				os.Exit(1)
			}
		}()
		dev = build("dev", nil, stacks.Options{})
		prod = build("prod", nil, stacks.Options{})
		devCustom = build("dev", map[string]any{
			"enable_vpc": true, "stream_mode": "on_demand", "enable_waf": true, "enable_cloudwatch_alarms": false,
			"allow_destroy": true,
		}, stacks.Options{DestroyConfirmed: true})
		prodDestroy = buildForced("prod")
		pipeline, pipelineTpl = buildPipeline()
		return m.Run()
	}()
	jsii.Close()
	os.Exit(code)
}

// extraScenarios are built on first use by the tests that need them (one
// synthesis each), so optional features cost nothing for other tests.
var extraScenarios = map[string]*scenario{}

// scenarioWith returns (building once) environment envName of cdk.json
// with the extra keys set in its block, under a cache key.
func scenarioWith(key, envName string, extra map[string]any, opts stacks.Options) *scenario {
	if s, ok := extraScenarios[key]; ok {
		return s
	}
	s := build(envName, extra, opts)
	extraScenarios[key] = s
	return s
}

func readContext() (config.Context, error) {
	b, err := os.ReadFile("../cdk.json")
	if err != nil {
		return nil, err
	}
	var f struct{ Context config.Context }
	return f.Context, json.Unmarshal(b, &f)
}

// newApp returns an App with the cdk.json context (a Go test does not read
// cdk.json), no asset bundling and no built-in CloudFormation validator:
// those belong to the strict synth gate, not to assertions.
func newApp(ctx config.Context) awscdk.App {
	c := map[string]any{}
	for k, v := range ctx {
		c[k] = v
	}
	c["aws:cdk:bundling-stacks"] = []string{}
	return awscdk.NewApp(&awscdk.AppProps{
		Context:                         &c,
		BuiltinCloudFormationValidation: jsii.Bool(false),
	})
}

// contextWith returns a copy of the cdk.json context whose environment
// block `name` has the extra keys set.
func contextWith(name string, extra map[string]any) config.Context {
	b, _ := json.Marshal(cdkContext)
	var ctx config.Context
	_ = json.Unmarshal(b, &ctx)
	block := ctx[config.KeyEnvironments].(map[string]any)[name].(map[string]any)
	for k, v := range extra {
		block[k] = v
	}
	return ctx
}

func build(name string, extra map[string]any, opts stacks.Options) *scenario {
	ctx := contextWith(name, extra)
	cfg, err := config.Load(ctx, name)
	if err != nil {
		panic(err)
	}
	app := newApp(ctx)
	if opts.Files == nil {
		opts.Files = files
	}
	s := &scenario{App: app, Cfg: cfg, Lake: stacks.NewDataLake(app, cfg, opts)}
	s.parse()
	return s
}

// buildForced builds an environment normally, then sets the raw bucket to
// DESTROY the way a careless code change would, bypassing the config rule.
// The retain check must still report it.
func buildForced(name string) *scenario {
	ctx := contextWith(name, nil)
	cfg, err := config.Load(ctx, name)
	if err != nil {
		panic(err)
	}
	app := newApp(ctx)
	lake := stacks.NewDataLake(app, cfg, stacks.Options{Files: files})
	// One resource of every stateful type.
	lake.Storage.Raw.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	lake.Storage.Key.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	lake.Ingestion.Stream.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	lake.Ingestion.FirehoseLogGroup.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	lake.Processing.Database.ApplyRemovalPolicy(awscdk.RemovalPolicy_DESTROY)
	s := &scenario{App: app, Cfg: cfg, Lake: lake}
	s.parse()
	return s
}

func buildPipeline() (*stacks.Pipeline, assertions.Template) {
	p, err := config.LoadPipeline(cdkContext)
	if err != nil {
		panic(err)
	}
	app := newApp(cdkContext)
	pl := stacks.NewPipeline(app, p, files)
	asm := app.Synth(nil)
	pipelineErrors = artifactErrors(asm.GetStackArtifact(pl.Stack.ArtifactId()))
	return pl, assertions.Template_FromStack(pl.Stack, &assertions.TemplateParsingOptions{SkipCyclicalDependenciesCheck: jsii.Bool(true)})
}

func (s *scenario) parse() {
	s.templates = map[string]assertions.Template{}
	s.errors = map[string][]string{}
	asm := s.App.Synth(nil)
	for _, st := range s.Lake.Stacks() {
		s.templates[*st.StackName()] = assertions.Template_FromStack(st, nil)
		s.errors[*st.StackName()] = artifactErrors(asm.GetStackArtifact(st.ArtifactId()))
	}
}

func artifactErrors(a cxapi.CloudFormationStackArtifact) []string {
	var out []string
	for _, m := range *a.Messages() {
		if m.Level != cxapi.SynthesisMessageLevel_ERROR {
			continue
		}
		data := fmt.Sprint(m.Entry.Data)
		if d, ok := m.Entry.Data.(string); ok {
			data = d
		}
		out = append(out, *m.Id+": "+strings.Split(data, "\n")[0])
	}
	return out
}

// tpl returns the template of a layer (storage, ingestion, ...).
func (s *scenario) tpl(layer string) assertions.Template {
	return s.templates[s.Cfg.StackName(layer)]
}

// json returns the template of a layer as plain Go values, for assertions
// that are easier in Go than with matchers: a fresh copy on every call, so
// a test that changes it cannot change what the next test reads.
func (s *scenario) json(layer string) map[string]any {
	if s.jsonText == nil {
		s.jsonText = map[string][]byte{}
	}
	text, ok := s.jsonText[layer]
	if !ok {
		var err error
		if text, err = json.Marshal(*s.tpl(layer).ToJSON()); err != nil {
			panic(err)
		}
		s.jsonText[layer] = text
	}
	return decodeTemplate(text)
}

// decodeTemplate parses a template's JSON text (numbers as float64, as
// ToJSON gives them).
func decodeTemplate(text []byte) map[string]any {
	var out map[string]any
	if err := json.Unmarshal(text, &out); err != nil {
		panic(err)
	}
	return out
}

// check runs a jsii assertion and turns its panic into a test failure, so
// one broken assertion does not abort the whole binary.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// resources returns the resources of a template with the given type,
// by logical id.
func resources(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res
		}
	}
	return out
}

func props(res map[string]any) map[string]any {
	p, _ := res["Properties"].(map[string]any)
	return p
}
