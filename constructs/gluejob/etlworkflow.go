// The ETL workflow: the Glue workflow that chains the lake's jobs in
// stages: the first stage starts on a schedule and on uploads under given
// prefixes (one EVENT trigger with batching, so a burst of uploads is one
// run), and each later stage starts when every job of the stage before it
// SUCCEEDED, so the chain stops at the first failure.
//
// The workflow is scope/id; its EventBridge role and rules are scope/<id>
// EventsRole, <id>Schedule and <id>Uploads (the workflow has a fixed name,
// so it keeps the caller's scope).

package gluejob

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/optional"
)

// Stage is one step of the chain.
type Stage struct {
	// ID is the trigger's construct id. Required.
	ID string
	// TriggerName is the Glue trigger's name. Required.
	TriggerName string
	// Jobs run in parallel in this stage. Required (at least one).
	Jobs []awsglue.IJob
}

// WorkflowProps configure the workflow.
type WorkflowProps struct {
	// Name of the workflow. Required.
	Name string
	// Description. Default: none.
	Description string
	// Stages in order; the first is started by the schedule and uploads.
	// Required (at least one).
	Stages []Stage
	// Schedule is an EventBridge schedule expression. Required.
	Schedule string
	// UploadBucket and UploadPrefixes: an object created under one of the
	// prefixes starts a run (the bucket must send events to EventBridge).
	// Default: no upload start.
	UploadBucket   awss3.IBucket
	UploadPrefixes []string
	// BatchSize events, or the first event plus BatchWindowMinutes, make
	// one run. Default: 10 events, 15 minutes.
	BatchSize          int
	BatchWindowMinutes int
}

// Workflow is the built workflow.
type Workflow struct {
	awsglue.Workflow
	// Schedule and Uploads are the rules that start it (Uploads nil
	// without UploadPrefixes).
	Schedule, Uploads awsevents.CfnRule
}

// NewWorkflow builds the workflow as scope/id.
func NewWorkflow(scope constructs.Construct, id string, p WorkflowProps) *Workflow {
	if p.Name == "" || p.Schedule == "" || len(p.Stages) == 0 {
		panic("gluejob: a workflow needs Name, Schedule and Stages")
	}
	for i, s := range p.Stages {
		if s.ID == "" || s.TriggerName == "" || len(s.Jobs) == 0 {
			panic(fmt.Sprintf("gluejob workflow %s: stage %d needs ID, TriggerName and at least one job", p.Name, i))
		}
	}
	if len(p.UploadPrefixes) > 0 && p.UploadBucket == nil {
		panic(fmt.Sprintf("gluejob workflow %s: UploadPrefixes need UploadBucket", p.Name))
	}
	if p.BatchSize == 0 {
		p.BatchSize = 10
	}
	if p.BatchWindowMinutes == 0 {
		p.BatchWindowMinutes = 15
	}
	desc := optional.String(p.Description)
	wf := awsglue.NewWorkflow(scope, jsii.String(id), &awsglue.WorkflowProps{
		WorkflowName:      jsii.String(p.Name),
		Description:       desc,
		MaxConcurrentRuns: jsii.Number(1),
	})
	first := p.Stages[0]
	wf.AddEventTrigger(jsii.String(first.ID), &awsglue.EventTriggerOptions{
		Name:    jsii.String(first.TriggerName),
		Actions: actions(first.Jobs),
		EventBatchingCondition: &awsglue.EventBatchingCondition{
			BatchSize:   jsii.Number(float64(p.BatchSize)),
			BatchWindow: awscdk.Duration_Minutes(jsii.Number(float64(p.BatchWindowMinutes))),
		},
	})
	for i, s := range p.Stages[1:] {
		wf.AddConditionalTrigger(jsii.String(s.ID), &awsglue.ConditionalTriggerOptions{
			Name:    jsii.String(s.TriggerName),
			Actions: actions(s.Jobs), Predicate: allSucceeded(p.Stages[i].Jobs), StartOnCreation: jsii.Bool(true),
		})
	}
	w := &Workflow{Workflow: wf}
	w.startOn(scope, id, p)
	return w
}

func actions(jobs []awsglue.IJob) *[]awsglue.Action {
	out := make([]awsglue.Action, len(jobs))
	for i, j := range jobs {
		out[i] = awsglue.Action_Job(j, nil)
	}
	return &out
}

func allSucceeded(jobs []awsglue.IJob) *awsglue.Predicate {
	conds := make([]awsglue.Condition, len(jobs))
	for i, j := range jobs {
		conds[i] = awsglue.Condition_Job(j, awsglue.JobState_SUCCEEDED, nil)
	}
	return &awsglue.Predicate{Logical: awsglue.PredicateLogical_AND, Conditions: &conds}
}

// startOn wires the schedule and uploads to the EVENT trigger through
// glue:notifyEvent. L1 rules: aws-events-targets has no Glue workflow
// target.
func (w *Workflow) startOn(scope constructs.Construct, id string, p WorkflowProps) {
	role := awsiam.NewRole(scope, jsii.String(id+"EventsRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("EventBridge notifies the workflow " + p.Name),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("glue:notifyEvent"),
		Resources: jsii.Strings(*w.WorkflowArn()),
	}))
	target := &[]*awsevents.CfnRule_TargetProperty{{Id: jsii.String("workflow"), Arn: w.WorkflowArn(), RoleArn: role.RoleArn()}}
	w.Schedule = awsevents.NewCfnRule(scope, jsii.String(id+"Schedule"), &awsevents.CfnRuleProps{
		Description:        jsii.String("Starts the workflow " + p.Name + " on " + p.Schedule),
		ScheduleExpression: jsii.String(p.Schedule),
		Targets:            target,
	})
	if len(p.UploadPrefixes) == 0 {
		return
	}
	var prefixes []any
	for _, pre := range p.UploadPrefixes {
		prefixes = append(prefixes, map[string]any{"prefix": pre})
	}
	w.Uploads = awsevents.NewCfnRule(scope, jsii.String(id+"Uploads"), &awsevents.CfnRuleProps{
		Description: jsii.String("Starts the workflow " + p.Name + " when files are created under its upload prefixes"),
		EventPattern: map[string]any{
			"source":      []string{"aws.s3"},
			"detail-type": []string{"Object Created"},
			"detail": map[string]any{
				"bucket": map[string]any{"name": []any{p.UploadBucket.BucketName()}},
				"object": map[string]any{"key": prefixes},
			},
		},
		Targets: target,
	})
}
