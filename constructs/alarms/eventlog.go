// The event log: a log group that EventBridge rules write matched events
// to: the cheapest target that keeps a record worth reading ("when
// did this partition land", "which job runs finished"), and whose rules'
// TriggeredRules metric alarms and dashboards can count.
//
// The group is scope/id and its resource policy scope/<id>Policy; rules
// keep the caller's scope and the ids they are given.

package alarms

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawsevents"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
)

// EventLogPrefix is where EventBridge's console expects log targets.
const EventLogPrefix = "/aws/events/"

// EventLogProps configure the log group.
type EventLogProps struct {
	// Name of the group, starting with EventLogPrefix. Required.
	Name string
	// Key encrypts the group (its policy must admit CloudWatch Logs).
	// Required.
	Key awskms.IKey
	// Retention of the events. Required.
	Retention awslogs.RetentionDays
	// Destroy lets a stack delete remove the group. Default: false.
	Destroy bool
}

// EventLog is the group and the rules recording to it.
type EventLog struct {
	Group awslogs.LogGroup
	Rules []awsevents.Rule

	scope  constructs.Construct
	target *logTarget
}

// NewEventLog builds the group as scope/id.
func NewEventLog(scope constructs.Construct, id string, p EventLogProps) *EventLog {
	if !strings.HasPrefix(p.Name, EventLogPrefix) || p.Key == nil || p.Retention == "" {
		panic("alarms: an event log needs Name (starting with " + EventLogPrefix + ", got " + p.Name + "), Key and Retention are required")
	}
	removal := compliance.Removal(p.Destroy)
	group := awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(p.Name),
		EncryptionKey: p.Key,
		Retention:     p.Retention,
		RemovalPolicy: removal,
	})
	// L2 ResourcePolicy with a hand-written statement: the CDK's
	// CloudWatchLogGroup target writes this policy through a custom resource
	// (a Lambda per stack) and one policy per rule, against an account
	// quota of 10 log resource policies per region. One policy covers every
	// rule here. Cross-account EventBridge cannot target a log group, so the
	// service principal on this one group is the whole grant.
	awslogs.NewResourcePolicy(scope, jsii.String(id+"Policy"), &awslogs.ResourcePolicyProps{
		ResourcePolicyName: jsii.String(strings.ReplaceAll(strings.TrimPrefix(p.Name, EventLogPrefix), "/", "-")),
		PolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("EventBridgeWritesLakeEvents"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
			Actions:    jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources:  &[]*string{group.LogGroupArn()},
		})},
	})
	stack := awscdk.Stack_Of(scope)
	target := &logTarget{arn: stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("logs"), Resource: jsii.String("log-group"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME, ResourceName: group.LogGroupName(),
	})}
	return &EventLog{Group: group, scope: scope, target: target}
}

// Record creates a rule (scope/id) that writes the events matching pattern
// to the group.
func (e *EventLog) Record(id, description string, pattern *awsevents.EventPattern) awsevents.Rule {
	rule := awsevents.NewRule(e.scope, jsii.String(id), &awsevents.RuleProps{
		Description:  jsii.String(description),
		EventPattern: pattern,
	})
	rule.AddTarget(e.target)
	e.Rules = append(e.Rules, rule)
	return rule
}

// logTarget writes matched events to a log group whose resource policy
// admits EventBridge (see New).
type logTarget struct{ arn *string }

func (t *logTarget) Bind(_ interfacesawsevents.IRuleRef, _ *string) *awsevents.RuleTargetConfig {
	return &awsevents.RuleTargetConfig{Arn: t.arn}
}
