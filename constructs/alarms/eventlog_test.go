package alarms

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
)

var eventsTpl map[string]any
var eventsNag []string
var eventsMisuse string

// buildEvents synthesizes what the eventlog tests read (called by TestMain).
func buildEvents() {
	stack := constructtest.NewStack("Events")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	e := NewEventLog(stack, "LakeEvents", EventLogProps{Name: EventLogPrefix + "t-lake-events", Key: key, Retention: awslogs.RetentionDays_ONE_MONTH})
	e.Record("Arrivals", "new objects", &awsevents.EventPattern{Source: jsii.Strings("aws.s3")})
	e.Record("JobRuns", "job runs", &awsevents.EventPattern{Source: jsii.Strings("aws.glue")})
	func() {
		defer func() { eventsMisuse = fmt.Sprint(recover()) }()
		NewEventLog(stack, "Bad", EventLogProps{Name: "t-events", Key: key, Retention: awslogs.RetentionDays_ONE_DAY})
	}()
	eventsTpl, eventsNag = constructtest.Synth(stack, "/Key/")
}

// One encrypted group with retention, one resource policy admitting
// EventBridge to that group only, and every rule targeting the group.
func TestRulesWriteToTheGroup(t *testing.T) {
	g := constructtest.OfType(eventsTpl, "AWS::Logs::LogGroup")
	if len(g) != 1 || g[0]["LogGroupName"] != "/aws/events/t-lake-events" || g[0]["KmsKeyId"] == nil || g[0]["RetentionInDays"] != float64(30) {
		t.Fatalf("groups = %v", g)
	}
	pols := constructtest.OfType(eventsTpl, "AWS::Logs::ResourcePolicy")
	if len(pols) != 1 || pols[0]["PolicyName"] != "t-lake-events" {
		t.Fatalf("resource policies = %v", pols)
	}
	doc := constructtest.JSON(pols[0]["PolicyDocument"])
	if !strings.Contains(doc, `events.amazonaws.com`) || !strings.Contains(doc, "LakeEvents") || strings.Contains(doc, `"Resource":"*"`) {
		t.Errorf("policy = %s", doc)
	}
	rules := constructtest.OfType(eventsTpl, "AWS::Events::Rule")
	if len(rules) != 2 {
		t.Fatalf("rules = %v", rules)
	}
	for _, r := range rules {
		if tg := constructtest.JSON(r["Targets"]); !strings.Contains(tg, ":log-group:") || !strings.Contains(tg, "LakeEvents") {
			t.Errorf("rule %v targets %s", r["Description"], tg)
		}
	}
}

func TestEventsMisuseIsNamed(t *testing.T) {
	if !strings.Contains(eventsMisuse, "Name (starting with /aws/events/, got t-events)") {
		t.Errorf("panic = %q", eventsMisuse)
	}
}

func TestEventsPassesCdkNag(t *testing.T) {
	for _, e := range eventsNag {
		t.Error(e)
	}
}
