// Package alarms is where the lake's bad news goes: one encrypted SNS topic
// that CloudWatch, EventBridge and Budgets may publish to from this account
// only (with an optional email subscription), CloudWatch alarms that notify
// it, EventBridge rules that send it a readable message, and the monthly
// cost budget that notifies it.
//
// Every resource keeps the caller's scope and the id it is given: alarms
// and budgets have fixed names, and CloudFormation cannot replace a
// custom-named resource in place.
package alarms

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbudgets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure the topic.
type Props struct {
	// NamePrefix starts every alarm name (<prefix>-<id>) and the budget's.
	// Required.
	NamePrefix string
	// DisplayName of the topic. Default: "<NamePrefix> alarms".
	DisplayName string
	// Key encrypts the topic; the services that publish must be allowed to
	// use it (the lake key's policy). Required.
	Key awskms.IKey
	// Email subscribes an address (confirmed by the recipient). Default:
	// none.
	Email string
}

// Alarms is the topic and everything routed to it.
type Alarms struct {
	Topic awssns.Topic
	// Alarms and Rules are what notifies the topic, in creation order.
	Alarms []awscloudwatch.Alarm
	Rules  []awsevents.Rule

	scope constructs.Construct
	p     Props
}

// Publishers are the services that publish to the topic, by statement sid
// suffix.
var Publishers = []struct{ Name, Principal string }{
	{"CloudWatch", "cloudwatch.amazonaws.com"},
	{"EventBridge", "events.amazonaws.com"},
	{"Budgets", "budgets.amazonaws.com"},
}

// New builds the topic as scope/id.
func New(scope constructs.Construct, id string, p Props) *Alarms {
	if p.NamePrefix == "" || p.Key == nil {
		panic("alarms: NamePrefix and Key are required")
	}
	if p.DisplayName == "" {
		p.DisplayName = p.NamePrefix + " alarms"
	}
	topic := awssns.NewTopic(scope, jsii.String(id), &awssns.TopicProps{
		DisplayName: jsii.String(p.DisplayName),
		MasterKey:   p.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	account := awscdk.Stack_Of(scope).Account()
	for _, svc := range Publishers {
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AllowPublishFrom" + svc.Name),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc.Principal), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*topic.TopicArn()),
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": account}},
		}))
	}
	if p.Email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(p.Email), nil))
	}
	return &Alarms{Topic: topic, scope: scope, p: p}
}

// Spec is one CloudWatch alarm.
type Spec struct {
	// ID is the construct id and the alarm name's suffix. Required.
	ID        string
	Metric    awscloudwatch.IMetric
	Threshold float64
	Op        awscloudwatch.ComparisonOperator
	// Missing is how missing data counts. Required: it is a decision per
	// alarm (no data can mean "quiet" or "stalled"), never a default.
	Missing awscloudwatch.TreatMissingData
	// Periods evaluated and Datapoints of them that must breach.
	// Default: 1 of 1; Datapoints defaults to Periods.
	Periods, Datapoints int
	// Description says what happened and what to do. Required.
	Description string
}

// Alarm creates one alarm (name <NamePrefix>-<ID>) that notifies the topic.
func (a *Alarms) Alarm(s Spec) awscloudwatch.Alarm {
	if s.ID == "" || s.Metric == nil || s.Op == "" || s.Missing == "" || s.Description == "" {
		panic(fmt.Sprintf("alarms: alarm %q needs ID, Metric, Op, Missing and Description", s.ID))
	}
	if s.Periods == 0 {
		s.Periods = 1
	}
	if s.Datapoints == 0 {
		s.Datapoints = s.Periods
	}
	al := awscloudwatch.NewAlarm(a.scope, jsii.String(s.ID), &awscloudwatch.AlarmProps{
		AlarmName:          jsii.String(a.p.NamePrefix + "-" + s.ID),
		Metric:             s.Metric,
		Threshold:          jsii.Number(s.Threshold),
		EvaluationPeriods:  jsii.Number(float64(s.Periods)),
		DatapointsToAlarm:  jsii.Number(float64(s.Datapoints)),
		ComparisonOperator: s.Op,
		TreatMissingData:   s.Missing,
		AlarmDescription:   jsii.String(s.Description),
	})
	al.AddAlarmAction(awscloudwatchactions.NewSnsAction(a.Topic))
	a.Alarms = append(a.Alarms, al)
	return al
}

// OnEvent sends events matching pattern to the topic as message (which may
// hold awsevents.EventField paths).
func (a *Alarms) OnEvent(id, description string, pattern *awsevents.EventPattern, message string) awsevents.Rule {
	rule := awsevents.NewRule(a.scope, jsii.String(id), &awsevents.RuleProps{
		Description:  jsii.String(description),
		EventPattern: pattern,
	})
	rule.AddTarget(&topicTarget{topic: a.Topic, input: awsevents.RuleTargetInput_FromText(jsii.String(message))})
	a.Rules = append(a.Rules, rule)
	return rule
}

// topicTarget sends matched events to the topic. Hand-written rather than
// awseventstargets.SnsTopic: that target grants events.amazonaws.com
// sns:Publish without the aws:SourceAccount condition; the topic's policy
// already admits EventBridge from this account only.
type topicTarget struct {
	topic awssns.ITopic
	input awsevents.RuleTargetInput
}

func (t *topicTarget) Bind(_ interfacesawsevents.IRuleRef, _ *string) *awsevents.RuleTargetConfig {
	return &awsevents.RuleTargetConfig{Arn: t.topic.TopicArn(), Input: t.input}
}

// BudgetThresholds are the notifications of the budget: percent of the
// limit, actual or forecasted spend.
var BudgetThresholds = []struct {
	Kind    string
	Percent float64
}{{"ACTUAL", 80}, {"ACTUAL", 100}, {"FORECASTED", 100}}

// BudgetProps configure the monthly cost budget.
type BudgetProps struct {
	// LimitUSD per month. Required.
	LimitUSD float64
	// TagKey and TagValue: only the costs of resources carrying this
	// user-defined tag count (Budgets CostFilters "TagKeyValue"
	// "user:<key>$<value>"; the tag must be activated as a cost allocation
	// tag). Required.
	TagKey, TagValue string
	// Notify sends BudgetThresholds to the topic (and the email). Default:
	// false (the budget is tracked, nobody is told).
	Notify bool
}

// Budget creates the monthly cost budget <NamePrefix>-monthly as scope/id.
// L1: Budgets has no L2 construct.
func (a *Alarms) Budget(id string, b BudgetProps) awsbudgets.CfnBudget {
	if b.LimitUSD <= 0 || b.TagKey == "" || b.TagValue == "" {
		panic(fmt.Sprintf("alarms: budget %q needs a positive LimitUSD (got %v), TagKey and TagValue", id, b.LimitUSD))
	}
	var notes []interface{}
	if b.Notify {
		subscribers := []interface{}{&awsbudgets.CfnBudget_SubscriberProperty{SubscriptionType: jsii.String("SNS"), Address: a.Topic.TopicArn()}}
		if a.p.Email != "" {
			subscribers = append(subscribers, &awsbudgets.CfnBudget_SubscriberProperty{SubscriptionType: jsii.String("EMAIL"), Address: jsii.String(a.p.Email)})
		}
		for _, n := range BudgetThresholds {
			notes = append(notes, &awsbudgets.CfnBudget_NotificationWithSubscribersProperty{
				Notification: &awsbudgets.CfnBudget_NotificationProperty{
					NotificationType:   jsii.String(n.Kind),
					ComparisonOperator: jsii.String("GREATER_THAN"),
					Threshold:          jsii.Number(n.Percent),
					ThresholdType:      jsii.String("PERCENTAGE"),
				},
				Subscribers: subscribers,
			})
		}
	}
	props := &awsbudgets.CfnBudgetProps{
		Budget: &awsbudgets.CfnBudget_BudgetDataProperty{
			BudgetName:  jsii.String(a.p.NamePrefix + "-monthly"),
			BudgetType:  jsii.String("COST"),
			TimeUnit:    jsii.String("MONTHLY"),
			BudgetLimit: &awsbudgets.CfnBudget_SpendProperty{Amount: jsii.Number(b.LimitUSD), Unit: jsii.String("USD")},
			CostFilters: map[string]interface{}{"TagKeyValue": []string{"user:" + b.TagKey + "$" + b.TagValue}},
		},
	}
	if len(notes) > 0 {
		props.NotificationsWithSubscribers = notes
	}
	return awsbudgets.NewCfnBudget(a.scope, jsii.String(id), props)
}
