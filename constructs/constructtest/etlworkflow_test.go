package constructtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/gluejob"
)

// stages are the test chain: two parallel jobs, then one, then two.
var stages = [][]string{{"raw-a", "raw-b"}, {"quality"}, {"curated-a", "curated-b"}}

// workflowBuilt is what the etlworkflow tests read.
type workflowBuilt struct {
	tpl    map[string]any
	nag    []string
	misuse string
}

// workflowFixture synthesizes the etlworkflow stack once, on first use.
var workflowFixture = sync.OnceValue(func() (b workflowBuilt) {
	stack := constructtest.NewStack("Wf")
	bucket := awss3.NewBucket(stack, jsii.String("Uploads"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	var ss []gluejob.Stage
	for i, names := range stages {
		var jobs []awsglue.IJob
		for _, n := range names {
			jobs = append(jobs, awsglue.Job_FromJobAttributes(stack, jsii.String("Job-"+n), &awsglue.JobAttributes{JobName: jsii.String(n)}))
		}
		ss = append(ss, gluejob.Stage{ID: fmt.Sprint("Stage", i), TriggerName: fmt.Sprint("t-stage-", i), Jobs: jobs})
	}
	gluejob.NewWorkflow(stack, "Workflow", gluejob.WorkflowProps{Name: "t-etl", Stages: ss, Schedule: "cron(0 2 * * ? *)",
		UploadBucket: bucket, UploadPrefixes: []string{"landing/a/", "landing/b/"}})
	gluejob.NewWorkflow(stack, "Quiet", gluejob.WorkflowProps{Name: "t-quiet", Stages: []gluejob.Stage{{ID: "Start", TriggerName: "t-quiet-start", Jobs: ss[0].Jobs}},
		Schedule: "rate(1 day)", BatchSize: 1, BatchWindowMinutes: 5})
	func() {
		defer func() { b.misuse = fmt.Sprint(recover()) }()
		gluejob.NewWorkflow(stack, "Bad", gluejob.WorkflowProps{Name: "t-bad", Schedule: "rate(1 day)", Stages: []gluejob.Stage{{ID: "S", TriggerName: "s"}}})
	}()
	b.tpl, b.nag = constructtest.Synth(stack, "/Uploads/")
	return b
})

func triggers() map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, t := range constructtest.OfType(workflowFixture().tpl, "AWS::Glue::Trigger") {
		out[t["Name"].(string)] = t
	}
	return out
}

// Each later stage starts when every job of the stage before SUCCEEDED
// (AND), and runs exactly its own jobs: the chain stops at a failure.
func TestStagesChainOnSuccess(t *testing.T) {
	tr := triggers()
	for i, names := range stages {
		trig := tr[fmt.Sprint("t-stage-", i)]
		if trig == nil {
			t.Fatalf("no trigger of stage %d: %v", i, tr)
		}
		acts := constructtest.JSON(trig["Actions"])
		for _, n := range names {
			if !strings.Contains(acts, `"JobName":"`+n+`"`) {
				t.Errorf("stage %d does not run %s: %s", i, n, acts)
			}
		}
		if strings.Count(acts, "JobName") != len(names) {
			t.Errorf("stage %d runs other jobs: %s", i, acts)
		}
		if i == 0 {
			continue
		}
		pred := trig["Predicate"].(map[string]any)
		conds := pred["Conditions"].([]any)
		// CloudFormation's default Logical is AND; the CDK omits it for one condition.
		if logical, set := pred["Logical"]; set && logical != "AND" || len(conds) > 1 && logical != "AND" {
			t.Errorf("stage %d predicate is not AND: %v", i, pred)
		}
		if trig["Type"] != "CONDITIONAL" || len(conds) != len(stages[i-1]) || trig["StartOnCreation"] != true {
			t.Errorf("stage %d trigger = %s", i, constructtest.JSON(trig))
		}
		for j, c := range conds {
			c := c.(map[string]any)
			if c["JobName"] != stages[i-1][j] || c["State"] != "SUCCEEDED" || c["LogicalOperator"] != "EQUALS" {
				t.Errorf("stage %d condition %d = %v", i, j, c)
			}
		}
	}
}

// The first stage is one EVENT trigger with batching (defaults 10 events
// or 15 minutes; the props override them).
func TestStartBatchesEvents(t *testing.T) {
	tr := triggers()
	for name, want := range map[string][2]float64{"t-stage-0": {10, 900}, "t-quiet-start": {1, 300}} {
		trig := tr[name]
		b := trig["EventBatchingCondition"].(map[string]any)
		if trig["Type"] != "EVENT" || b["BatchSize"] != want[0] || b["BatchWindow"] != want[1] {
			t.Errorf("%s = %s", name, constructtest.JSON(trig))
		}
	}
}

// The schedule and each upload prefix of the bucket notify the workflow,
// through a role that may notify this workflow only; without prefixes
// there is no upload rule.
func TestStartRules(t *testing.T) {
	workflowTpl := workflowFixture().tpl
	rules := constructtest.OfType(workflowTpl, "AWS::Events::Rule")
	var schedules, uploads int
	for _, r := range rules {
		if r["ScheduleExpression"] != nil {
			schedules++
			continue
		}
		uploads++
		pat := constructtest.JSON(r["EventPattern"])
		for _, want := range []string{`{"prefix":"landing/a/"}`, `{"prefix":"landing/b/"}`, `"Object Created"`, `"Ref":"Uploads`} {
			if !strings.Contains(pat, want) {
				t.Errorf("upload pattern lacks %s: %s", want, pat)
			}
		}
	}
	if schedules != 2 || uploads != 1 {
		t.Errorf("%d schedule and %d upload rules, want 2 and 1", schedules, uploads)
	}
	pol := constructtest.JSON(constructtest.OfType(workflowTpl, "AWS::IAM::Policy"))
	if !strings.Contains(pol, "glue:notifyEvent") || strings.Contains(pol, `"Resource":"*"`) {
		t.Errorf("events role policy = %s", pol)
	}
}

func TestWorkflowMisuseIsNamed(t *testing.T) {
	workflowMisuse := workflowFixture().misuse
	if !strings.Contains(workflowMisuse, "gluejob workflow t-bad: stage 0 needs ID, TriggerName and at least one job") {
		t.Errorf("panic = %q", workflowMisuse)
	}
}

func TestWorkflowPassesCdkNag(t *testing.T) {
	for _, e := range workflowFixture().nag {
		t.Error(e)
	}
}
