package constructtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/alarms"
	"github.com/example/datalake/constructs/constructtest"
)

// alarmsBuilt is what the alarms tests read.
type alarmsBuilt struct {
	tpl       map[string]any
	nagErrors []string
	misuse    []string
}

// alarmsFixture synthesizes the alarms stack once, on first use.
var alarmsFixture = sync.OnceValue(func() (b alarmsBuilt) {
	stack := constructtest.NewStack("Alarms")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	a := alarms.New(stack, "Topic", alarms.Props{NamePrefix: "t-lake", Key: key, Email: "ops@example.com"})
	metric := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("T"), MetricName: jsii.String("Errors")})
	a.Alarm(alarms.Spec{ID: "Errors", Metric: metric, Threshold: 0, Op: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		Missing: awscloudwatch.TreatMissingData_NOT_BREACHING, Description: "errors"})
	a.Alarm(alarms.Spec{ID: "Stale", Metric: metric, Threshold: 1, Op: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
		Missing: awscloudwatch.TreatMissingData_BREACHING, Periods: 6, Description: "stale"})
	a.OnEvent("JobFailed", "a job failed", &awsevents.EventPattern{Source: jsii.Strings("aws.glue")},
		"job "+*awsevents.EventField_FromPath(jsii.String("$.detail.jobName"))+" failed")
	a.Budget("Budget", alarms.BudgetProps{LimitUSD: 100, TagKey: "lake-environment", TagValue: "t-lake", Notify: true})
	quiet := alarms.New(stack, "Quiet", alarms.Props{NamePrefix: "t-quiet", Key: key})
	quiet.Budget("QuietBudget", alarms.BudgetProps{LimitUSD: 5, TagKey: "k", TagValue: "v"})
	for name, f := range map[string]func(){
		"no missing": func() {
			a.Alarm(alarms.Spec{ID: "NoMissing", Metric: metric, Op: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, Description: "x"})
		},
		"no limit": func() { a.Budget("Zero", alarms.BudgetProps{TagKey: "k", TagValue: "v"}) },
	} {
		func() {
			defer func() { b.misuse = append(b.misuse, name+": "+fmt.Sprint(recover())) }()
			f()
		}()
	}
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Key/")
	return b
})

// CloudWatch, EventBridge and Budgets may publish, each only from this
// account; the topic is encrypted and refuses plain HTTP; the email is
// subscribed.
func TestTopicAdmitsThePublishersOfThisAccount(t *testing.T) {
	tpl := alarmsFixture().tpl
	pol := constructtest.JSON(constructtest.OfType(tpl, "AWS::SNS::TopicPolicy"))
	for _, svc := range alarms.Publishers {
		if !strings.Contains(pol, `"Sid":"AllowPublishFrom`+svc.Name+`"`) || !strings.Contains(pol, svc.Principal) {
			t.Errorf("topic policy does not admit %s: %s", svc.Name, pol)
		}
	}
	if n := strings.Count(pol, `"aws:SourceAccount"`); n != 2*len(alarms.Publishers) {
		t.Errorf("%d aws:SourceAccount conditions, want one per publisher per topic (%d): %s", n, 2*len(alarms.Publishers), pol)
	}
	for _, topic := range constructtest.OfType(tpl, "AWS::SNS::Topic") {
		if topic["KmsMasterKeyId"] == nil {
			t.Errorf("topic %v is not encrypted", topic["DisplayName"])
		}
	}
	subs := constructtest.OfType(tpl, "AWS::SNS::Subscription")
	if len(subs) != 1 || subs[0]["Endpoint"] != "ops@example.com" || subs[0]["Protocol"] != "email" {
		t.Errorf("subscriptions = %v", subs)
	}
}

// An alarm is named <prefix>-<id>, notifies the topic, and evaluates the
// periods it was given (datapoints default to all of them).
func TestAlarmsNotifyTheTopic(t *testing.T) {
	tpl := alarmsFixture().tpl
	got := map[string]map[string]any{}
	for _, a := range constructtest.OfType(tpl, "AWS::CloudWatch::Alarm") {
		got[a["AlarmName"].(string)] = a
		if acts := constructtest.JSON(a["AlarmActions"]); !strings.Contains(acts, `"Ref":"Topic`) {
			t.Errorf("%v does not notify the topic: %s", a["AlarmName"], acts)
		}
	}
	for name, want := range map[string][3]any{"t-lake-Errors": {1.0, 1.0, "notBreaching"}, "t-lake-Stale": {6.0, 6.0, "breaching"}} {
		a := got[name]
		if a == nil || a["EvaluationPeriods"] != want[0] || a["DatapointsToAlarm"] != want[1] || a["TreatMissingData"] != want[2] {
			t.Errorf("%s = %v, want periods/datapoints/missing %v", name, a, want)
		}
	}
}

// A rule sends its message text (with the event's fields) to the topic.
func TestOnEventSendsTheMessage(t *testing.T) {
	tpl := alarmsFixture().tpl
	rules := constructtest.OfType(tpl, "AWS::Events::Rule")
	if len(rules) != 1 {
		t.Fatalf("rules = %v", rules)
	}
	tg := rules[0]["Targets"].([]any)[0].(map[string]any)
	if !strings.Contains(constructtest.JSON(tg["Arn"]), `"Ref":"Topic`) || !strings.Contains(constructtest.JSON(tg["InputTransformer"]), `job \u003cdetail-jobName\u003e failed`) {
		t.Errorf("target = %s", constructtest.JSON(tg))
	}
}

// The budget counts the tagged costs only; it notifies the topic and the
// email at each threshold when asked, and nobody otherwise.
func TestBudget(t *testing.T) {
	tpl := alarmsFixture().tpl
	budgets := map[string]map[string]any{}
	for _, b := range constructtest.OfType(tpl, "AWS::Budgets::Budget") {
		budgets[b["Budget"].(map[string]any)["BudgetName"].(string)] = b
	}
	b := budgets["t-lake-monthly"]
	if f := constructtest.JSON(b["Budget"].(map[string]any)["CostFilters"]); f != `{"TagKeyValue":["user:lake-environment$t-lake"]}` {
		t.Errorf("cost filter = %s", f)
	}
	notes, _ := b["NotificationsWithSubscribers"].([]any)
	if len(notes) != len(alarms.BudgetThresholds) {
		t.Fatalf("notifications = %v", notes)
	}
	for _, n := range notes {
		if subs := constructtest.JSON(n.(map[string]any)["Subscribers"]); !strings.Contains(subs, `"SubscriptionType":"SNS"`) || !strings.Contains(subs, "ops@example.com") {
			t.Errorf("subscribers = %s", subs)
		}
	}
	if q := budgets["t-quiet-monthly"]; q == nil || q["NotificationsWithSubscribers"] != nil {
		t.Errorf("a budget without Notify notifies: %v", q)
	}
}

func TestAlarmsMisuseIsNamed(t *testing.T) {
	all := strings.Join(alarmsFixture().misuse, "\n")
	for _, want := range []string{`alarm "NoMissing" needs ID, Metric, Op, Missing and Description`, `budget "Zero" needs a positive LimitUSD (got 0)`} {
		if !strings.Contains(all, want) {
			t.Errorf("panics %q lack %q", all, want)
		}
	}
}

func TestAlarmsPassesCdkNag(t *testing.T) {
	for _, e := range alarmsFixture().nagErrors {
		t.Error(e)
	}
}
