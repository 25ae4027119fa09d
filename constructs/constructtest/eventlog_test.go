package constructtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/alarms"
	"github.com/example/datalake/constructs/constructtest"
)

// eventsBuilt is what the eventlog tests read.
type eventsBuilt struct {
	tpl    map[string]any
	nag    []string
	misuse string
}

// eventsFixture synthesizes the eventlog stack once, on first use.
var eventsFixture = sync.OnceValue(func() (b eventsBuilt) {
	stack := constructtest.NewStack("Events")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	e := alarms.NewEventLog(stack, "LakeEvents", alarms.EventLogProps{Name: alarms.EventLogPrefix + "t-lake-events", Key: key, Retention: awslogs.RetentionDays_ONE_MONTH})
	e.Record("Arrivals", "new objects", &awsevents.EventPattern{Source: jsii.Strings("aws.s3")})
	e.Record("JobRuns", "job runs", &awsevents.EventPattern{Source: jsii.Strings("aws.glue")})
	func() {
		defer func() { b.misuse = fmt.Sprint(recover()) }()
		alarms.NewEventLog(stack, "Bad", alarms.EventLogProps{Name: "t-events", Key: key, Retention: awslogs.RetentionDays_ONE_DAY})
	}()
	b.tpl, b.nag = constructtest.Synth(stack, "/Key/")
	return b
})

// One encrypted group with retention, one resource policy admitting
// EventBridge to that group only, and every rule targeting the group.
func TestRulesWriteToTheGroup(t *testing.T) {
	eventsTpl := eventsFixture().tpl
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
	eventsMisuse := eventsFixture().misuse
	if !strings.Contains(eventsMisuse, "Name (starting with /aws/events/, got t-events)") {
		t.Errorf("panic = %q", eventsMisuse)
	}
}

func TestEventsPassesCdkNag(t *testing.T) {
	for _, e := range eventsFixture().nag {
		t.Error(e)
	}
}
