package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/stacks"
)

// Assertions on pipeline mode (`-c pipeline=true`), synthesized once in
// TestMain (pipeline, pipelineTpl, pipelineErrors).

// pipelineConfig is the delivery block the pipeline was built from.
func pipelineConfig(t *testing.T) *config.Pipeline {
	t.Helper()
	p, err := config.LoadPipeline(cdkContext)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pipelineJSON is the pipeline stack's template as plain Go values.
// pipelineJSON is the pipeline stack's template, a fresh copy per call (the
// jsii round trip happens once: scenario.json).
func pipelineJSON() map[string]any {
	if pipelineText == nil {
		var err error
		if pipelineText, err = json.Marshal(*pipelineTpl.ToJSON()); err != nil {
			panic(err)
		}
	}
	return decodeTemplate(pipelineText)
}

var pipelineText []byte

// pipelineStages returns the CodePipeline's stages, in order.
func pipelineStages(t *testing.T) []map[string]any {
	t.Helper()
	pls := resources(pipelineJSON(), "AWS::CodePipeline::Pipeline")
	if len(pls) != 1 {
		t.Fatalf("want one AWS::CodePipeline::Pipeline, got %d", len(pls))
	}
	var out []map[string]any
	for _, p := range pls {
		for _, s := range props(p)["Stages"].([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

// stageNamed returns the stage with that name, or fails.
func stageNamed(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, s := range pipelineStages(t) {
		if s["Name"] == name {
			return s
		}
	}
	t.Fatalf("no stage %q in the pipeline", name)
	return nil
}

// action is one action of a stage.
type action struct {
	Name, Provider string
	RunOrder       int
	Config         map[string]any
	Inputs         []string
}

func stageActions(stage map[string]any) []action {
	var out []action
	for _, a := range stage["Actions"].([]any) {
		m := a.(map[string]any)
		x := action{Name: m["Name"].(string), Provider: m["ActionTypeId"].(map[string]any)["Provider"].(string), RunOrder: 1}
		if r, ok := m["RunOrder"].(float64); ok {
			x.RunOrder = int(r)
		}
		x.Config, _ = m["Configuration"].(map[string]any)
		if ins, ok := m["InputArtifacts"].([]any); ok {
			for _, in := range ins {
				x.Inputs = append(x.Inputs, in.(map[string]any)["Name"].(string))
			}
		}
		out = append(out, x)
	}
	return out
}

// actionNamed returns the stage's action with that name, or nil.
func actionNamed(stage map[string]any, name string) *action {
	for _, a := range stageActions(stage) {
		if a.Name == name {
			return &a
		}
	}
	return nil
}

// deployOrders returns the smallest and largest run order of the stage's
// CloudFormation actions (the stacks' Prepare/Deploy).
func deployOrders(stage map[string]any) (first, last int) {
	first = 1 << 30
	for _, a := range stageActions(stage) {
		if a.Provider == "CloudFormation" {
			first, last = min(first, a.RunOrder), max(last, a.RunOrder)
		}
	}
	return first, last
}

// projectOf returns the CodeBuild project an action runs.
func projectOf(t *testing.T, a *action) map[string]any {
	t.Helper()
	ref, _ := a.Config["ProjectName"].(map[string]any)["Ref"].(string)
	res, ok := pipelineJSON()["Resources"].(map[string]any)[ref].(map[string]any)
	if !ok {
		t.Fatalf("action %s: no CodeBuild project %q", a.Name, ref)
	}
	return res
}

// buildCommands returns the commands of a project's buildspec phase.
func buildCommands(t *testing.T, project map[string]any, phase string) []string {
	t.Helper()
	var spec struct {
		Phases map[string]struct {
			Commands []string `json:"commands"`
		} `json:"phases"`
	}
	src := props(project)["Source"].(map[string]any)
	if err := json.Unmarshal([]byte(src["BuildSpec"].(string)), &spec); err != nil {
		t.Fatalf("buildspec: %v", err)
	}
	return spec.Phases[phase].Commands
}

func TestPipelineIsV2(t *testing.T) {
	for id, p := range resources(pipelineJSON(), "AWS::CodePipeline::Pipeline") {
		if got := props(p)["PipelineType"]; got != "V2" {
			t.Errorf("%s: PipelineType = %v, want V2", id, got)
		}
	}
}

func TestPipelineSourceIsTheConfiguredConnection(t *testing.T) {
	p := pipelineConfig(t)
	src := pipelineStages(t)[0]
	acts := stageActions(src)
	if src["Name"] != "Source" || len(acts) != 1 {
		t.Fatalf("first stage = %v with %d actions, want Source with one action", src["Name"], len(acts))
	}
	a := acts[0]
	if a.Provider != "CodeStarSourceConnection" {
		t.Errorf("source provider = %s, want CodeStarSourceConnection", a.Provider)
	}
	want := map[string]string{"ConnectionArn": p.ConnectionArn, "FullRepositoryId": p.Repository, "BranchName": p.Branch}
	for k, v := range want {
		if a.Config[k] != v {
			t.Errorf("source %s = %v, want %q (from context.delivery)", k, a.Config[k], v)
		}
	}
}

func TestPipelineSynthRunsTheTestSuite(t *testing.T) {
	synth := actionNamed(stageNamed(t, "Build"), "Synth")
	if synth == nil {
		t.Fatal("no Synth action in the Build stage")
	}
	project := projectOf(t, synth)
	cmds := buildCommands(t, project, "build")
	if strings.Join(cmds, ";") != "make test;make synth-pipeline" {
		t.Errorf("synth commands = %q, want make test then make synth-pipeline", cmds)
	}
	install := strings.Join(buildCommands(t, project, "install"), ";")
	if !strings.Contains(install, "cfn-lint==") {
		t.Errorf("synth install commands %q do not install a pinned cfn-lint (make test runs it)", install)
	}
	env := props(project)["Environment"].(map[string]any)
	if !strings.Contains(fmt.Sprint(env["EnvironmentVariables"]), stacks.GoToolchain) {
		t.Errorf("synth environment %v does not pin GOTOOLCHAIN=%s", env["EnvironmentVariables"], stacks.GoToolchain)
	}
}

func TestPipelineSelfMutates(t *testing.T) {
	stages := pipelineStages(t)
	if len(stages) < 3 || stages[2]["Name"] != "UpdatePipeline" {
		t.Fatalf("third stage is not UpdatePipeline: %v", stageNames(stages))
	}
	if actionNamed(stages[2], "SelfMutate") == nil {
		t.Errorf("UpdatePipeline has no SelfMutate action: %v", stageActions(stages[2]))
	}
}

func stageNames(stages []map[string]any) []string {
	var out []string
	for _, s := range stages {
		out = append(out, s["Name"].(string))
	}
	return out
}

func TestPipelineDeploysEnvironmentsInOrder(t *testing.T) {
	p := pipelineConfig(t)
	var want []string
	for _, s := range p.Stages {
		want = append(want, s.Env)
	}
	var got []string
	for _, name := range stageNames(pipelineStages(t)) {
		for _, w := range want {
			if name == w {
				got = append(got, name)
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("environment stages = %v, want %v in that order", got, want)
	}
	if strings.Join(want, ",") != "dev,prod" {
		t.Errorf("shipped delivery stages = %v, want dev then prod", want)
	}
	// Each stage deploys the same five stacks, under the environment's names.
	for _, env := range want {
		st := stageNamed(t, env)
		for _, layer := range stacks.Layers {
			name := fmt.Sprintf("%s-%s-%s.Deploy", p.Project, env, layer)
			if actionNamed(st, name) == nil {
				t.Errorf("stage %s has no action %s", env, name)
			}
		}
	}
}

func TestPipelineDiffAndApprovalOnlyBeforeApprovedStages(t *testing.T) {
	p := pipelineConfig(t)
	for _, s := range p.Stages {
		st := stageNamed(t, s.Env)
		diff, approve := actionNamed(st, "Diff-"+s.Env), actionNamed(st, "Approve-"+s.Env)
		if !config.Bool(s.Approval) {
			if diff != nil || approve != nil {
				t.Errorf("stage %s (no approval) has a diff or approval step", s.Env)
			}
			for _, a := range stageActions(st) {
				if a.Provider == "Manual" {
					t.Errorf("stage %s (no approval) has manual action %s", s.Env, a.Name)
				}
			}
			continue
		}
		if diff == nil || approve == nil {
			t.Errorf("stage %s: diff %v, approval %v: want both", s.Env, diff != nil, approve != nil)
			continue
		}
		first, _ := deployOrders(st)
		if !(diff.RunOrder < approve.RunOrder && approve.RunOrder < first) {
			t.Errorf("stage %s: diff (run order %d) must run before the approval (%d), both before the first deploy (%d)",
				s.Env, diff.RunOrder, approve.RunOrder, first)
		}
		if approve.Provider != "Manual" {
			t.Errorf("Approve-%s provider = %s, want Manual", s.Env, approve.Provider)
		}
		// The diff reads the synthesized assembly and the Makefile.
		if len(diff.Inputs) != 2 || !containsStr(diff.Inputs, "Synth_Output") {
			t.Errorf("Diff-%s inputs = %v, want the source and Synth_Output", s.Env, diff.Inputs)
		}
		if cmds := buildCommands(t, projectOf(t, diff), "build"); !containsStr(cmds, "make diff-pipeline STAGE="+s.Env) {
			t.Errorf("Diff-%s commands = %v", s.Env, cmds)
		}
	}
	// The shipped config: approval before prod, not before dev.
	if actionNamed(stageNamed(t, "dev"), "Approve-dev") != nil || actionNamed(stageNamed(t, "prod"), "Approve-prod") == nil {
		t.Errorf("want a manual approval before prod only")
	}
}

func TestPipelineSmokeTestAfterEachStage(t *testing.T) {
	p := pipelineConfig(t)
	for i, s := range p.Stages {
		st := stageNamed(t, s.Env)
		smoke := actionNamed(st, "SmokeTest-"+s.Env)
		if smoke == nil {
			t.Errorf("stage %s has no smoke test", s.Env)
			continue
		}
		if _, last := deployOrders(st); smoke.RunOrder <= last {
			t.Errorf("SmokeTest-%s run order %d, want after the last deploy (%d)", s.Env, smoke.RunOrder, last)
		}
		vars := fmt.Sprint(smoke.Config["EnvironmentVariables"])
		// Names from the stack outputs (action variables) ...
		for _, v := range []string{"STREAM_NAME", "RAW_BUCKET", "SMOKE_TEST_ROLE"} {
			if !strings.Contains(vars, `"name":"`+v+`"`) {
				t.Errorf("SmokeTest-%s has no %s variable: %s", s.Env, v, vars)
			}
		}
		// ... and the dataset from config (project variable).
		project := projectOf(t, smoke)
		if env := fmt.Sprint(props(project)["Environment"]); !strings.Contains(env, "DATASET") {
			t.Errorf("SmokeTest-%s project has no DATASET variable: %s", s.Env, env)
		}
		// ... with a record built from that dataset's declaration.
		envJSON, _ := json.Marshal(props(project)["Environment"])
		want, _ := json.Marshal(dataset.SampleRecord(p.Envs[i].Datasets[0]))
		if !strings.Contains(string(envJSON), `"Name":"RECORD_TEMPLATE","Type":"PLAINTEXT","Value":`+string(want)) {
			t.Errorf("SmokeTest-%s has no RECORD_TEMPLATE of its first dataset: %s", s.Env, envJSON)
		}
		// Through the API when the ingestion stack publishes its URL (and
		// with its key when it has one).
		for v, id := range map[string]string{"API_URL": stacks.APIURLOutputID, "API_KEY_ID": stacks.APIKeyOutputID} {
			has := pipeline.Lakes[i].Ingestion.Stack.Node().TryFindChild(jsii.String(id)) != nil
			if got := strings.Contains(vars, `"name":"`+v+`"`); got != has {
				t.Errorf("SmokeTest-%s %s variable = %v, ingestion output %s exists = %v", s.Env, v, got, id, has)
			}
			if v == "API_URL" && !has {
				t.Logf("ingestion stack of %s has no %s output: the smoke test uses the stream", s.Env, id)
			}
		}
		if cmds := buildCommands(t, project, "build"); !containsStr(cmds, "bash scripts/smoke-test.sh") {
			t.Errorf("SmokeTest-%s commands = %v", s.Env, cmds)
		}
	}
}

func TestPipelineArtifactsEncryptedAndLogged(t *testing.T) {
	check(t, "artifact store uses the KMS key", func() {
		pipelineTpl.HasResourceProperties(jsii.String("AWS::CodePipeline::Pipeline"), map[string]any{
			"ArtifactStore": map[string]any{
				"Type":          "S3",
				"Location":      map[string]any{"Ref": jsii.String(pipelineLogicalID(pipeline.ArtifactBucket.Node().DefaultChild()))},
				"EncryptionKey": map[string]any{"Type": "KMS", "Id": map[string]any{"Fn::GetAtt": []any{pipelineLogicalID(pipeline.ArtifactKey.Node().DefaultChild()), "Arn"}}},
			},
		})
	})
	bucket := pipelineResource(t, pipelineLogicalID(pipeline.ArtifactBucket.Node().DefaultChild()))
	enc := fmt.Sprint(props(bucket)["BucketEncryption"])
	if !strings.Contains(enc, "aws:kms") || !strings.Contains(enc, pipelineLogicalID(pipeline.ArtifactKey.Node().DefaultChild())) {
		t.Errorf("artifact bucket encryption = %s, want SSE-KMS with the artifact key", enc)
	}
	logging, _ := props(bucket)["LoggingConfiguration"].(map[string]any)
	if fmt.Sprint(logging["DestinationBucketName"]) != fmt.Sprint(map[string]any{"Ref": pipelineLogicalID(pipeline.ArtifactLogBucket.Node().DefaultChild())}) {
		t.Errorf("artifact bucket access logs = %v, want the artifact access-log bucket", logging)
	}
	key := pipelineResource(t, pipelineLogicalID(pipeline.ArtifactKey.Node().DefaultChild()))
	if props(key)["EnableKeyRotation"] != true {
		t.Errorf("artifact key rotation = %v, want true", props(key)["EnableKeyRotation"])
	}
	// TLS only, on both buckets.
	for id, pol := range resources(pipelineJSON(), "AWS::S3::BucketPolicy") {
		if !strings.Contains(fmt.Sprint(props(pol)["PolicyDocument"]), "aws:SecureTransport") {
			t.Errorf("bucket policy %s does not deny plain HTTP", id)
		}
	}
	if n := len(resources(pipelineJSON(), "AWS::S3::BucketPolicy")); n != 2 {
		t.Errorf("want 2 bucket policies (artifacts, access logs), got %d", n)
	}
}

func TestPipelineFailureNotifications(t *testing.T) {
	topic := pipelineLogicalID(pipeline.FailureTopic.Node().DefaultChild())
	check(t, "notification rule on execution failed", func() {
		pipelineTpl.HasResourceProperties(jsii.String("AWS::CodeStarNotifications::NotificationRule"), map[string]any{
			"EventTypeIds": []any{"codepipeline-pipeline-pipeline-execution-failed"},
			"Resource":     map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":codepipeline:us-west-2:111111111111:", map[string]any{"Ref": pipelineLogicalID(pipeline.Pipeline.Pipeline().Node().DefaultChild())}}}},
			"Targets":      []any{map[string]any{"TargetType": "SNS", "TargetAddress": map[string]any{"Ref": topic}}},
		})
	})
	tp := pipelineResource(t, topic)
	if _, ok := props(tp)["KmsMasterKeyId"]; !ok {
		t.Errorf("failure topic is not KMS-encrypted: %v", props(tp))
	}
	var policy string
	for _, pol := range resources(pipelineJSON(), "AWS::SNS::TopicPolicy") {
		policy += fmt.Sprint(props(pol)["PolicyDocument"])
	}
	for _, want := range []string{"aws:SecureTransport", "codestar-notifications.amazonaws.com"} {
		if !strings.Contains(policy, want) {
			t.Errorf("failure topic policy lacks %s: %s", want, policy)
		}
	}
	// The key lets CodeStar Notifications encrypt through SNS, nothing else.
	keyID := fmt.Sprint(props(tp)["KmsMasterKeyId"].(map[string]any)["Fn::GetAtt"].([]any)[0])
	keyPolicy := fmt.Sprint(props(pipelineResource(t, keyID))["KeyPolicy"])
	if !strings.Contains(keyPolicy, "codestar-notifications.amazonaws.com") || !strings.Contains(keyPolicy, "kms:ViaService") {
		t.Errorf("notification key policy does not let CodeStar Notifications use it via SNS: %s", keyPolicy)
	}
}

func TestPipelineNoUnsuppressedNagErrors(t *testing.T) {
	for _, e := range pipelineErrors {
		t.Errorf("pipeline stack: %s", e)
	}
}

func pipelineResource(t *testing.T, id string) map[string]any {
	t.Helper()
	r, ok := pipelineJSON()["Resources"].(map[string]any)[id].(map[string]any)
	if !ok {
		t.Fatalf("no resource %s in the pipeline stack", id)
	}
	return r
}

// pipelineLogicalID is the logical id of an L1 resource of the pipeline stack.
func pipelineLogicalID(c constructs.IConstruct) string {
	return *pipeline.Stack.GetLogicalId(c.(awscdk.CfnElement))
}

// A failed release reaches someone: delivery.alarm_email_address is
// subscribed to the failure topic.
func TestPipelineFailuresReachTheConfiguredEmail(t *testing.T) {
	check(t, "failure email", func() {
		pipelineTpl.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{
			"Protocol": "email",
			"Endpoint": "alerts@example.com",
			"TopicArn": map[string]any{"Ref": assertions.Match_StringLikeRegexp(jsii.String("^FailureTopic"))},
		})
	})
}

// The smoke-test role in each stage trusts only the pipeline stack's roles
// of the pipeline account, not every principal there.
func TestSmokeTestRoleTrustsOnlyPipelineRoles(t *testing.T) {
	for _, lake := range pipeline.Lakes {
		tpl := assertions.Template_FromStack(lake.Ingestion.Stack, nil)
		check(t, *lake.Ingestion.Stack.StackName(), func() {
			tpl.HasResourceProperties(jsii.String("AWS::IAM::Role"), map[string]any{
				"RoleName": assertions.Match_StringLikeRegexp(jsii.String("-smoke-test$")),
				"AssumeRolePolicyDocument": map[string]any{"Statement": []any{assertions.Match_ObjectLike(&map[string]any{
					"Condition": map[string]any{"ArnLike": map[string]any{
						"aws:PrincipalArn": assertions.Match_StringLikeRegexp(jsii.String(`:iam::111111111111:role/data-pipeline-pipeline-\*$`)),
					}},
				})}},
			})
		})
	}
}
