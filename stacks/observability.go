package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
)

// ObservabilityProps configure the observability stack.
type ObservabilityProps struct {
	StackProps awscdk.StackProps
	Config     *config.Config
	// Lake gives the stacks whose resources are watched. Observability
	// depends on all of them, never the other way round.
	Lake *DataLake
	// Destroy lets `cdk destroy` delete the trail bucket and log groups.
	// Default: false (retain).
	Destroy bool
}

// Observability owns the alarm topic, the alarms and the audit trail.
type Observability struct {
	Stack      awscdk.Stack
	AlarmTopic awssns.ITopic
	// Alarms lists every alarm created (empty when alarms are disabled).
	Alarms []awscloudwatch.IAlarm
}

// NewObservability builds the observability stack.
func NewObservability(scope constructs.Construct, id string, props ObservabilityProps) *Observability {
	cfg, lake := props.Config, props.Lake
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	o := &Observability{Stack: stack}

	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String(cfg.Prefix() + " data lake alarms"),
		MasterKey:   lake.Storage.Key,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, svc := range []string{"cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com"} {
		topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AllowPublishFrom" + map[string]string{"cloudwatch.amazonaws.com": "CloudWatch", "events.amazonaws.com": "EventBridge", "budgets.amazonaws.com": "Budgets"}[svc]),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(svc), nil)},
			Actions:    jsii.Strings("sns:Publish"),
			Resources:  jsii.Strings(*topic.TopicArn()),
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()}},
		}))
	}
	if cfg.AlarmEmailAddress != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.AlarmEmailAddress), nil))
	}
	o.AlarmTopic = topic

	if config.Bool(cfg.EnableCloudwatchAlarms) {
		o.addIngestionAlarms(cfg, lake.Ingestion)
	}
	output(stack, "AlarmTopicArn", topic.TopicArn(), "SNS topic every alarm notifies")
	return o
}

// alarm creates one alarm routed to the topic.
func (o *Observability) alarm(id string, metric awscloudwatch.IMetric, threshold float64, op awscloudwatch.ComparisonOperator, missing awscloudwatch.TreatMissingData, description string) awscloudwatch.Alarm {
	a := awscloudwatch.NewAlarm(o.Stack, jsii.String(id), &awscloudwatch.AlarmProps{
		Metric:             metric,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: op,
		TreatMissingData:   missing,
		AlarmDescription:   jsii.String(description),
	})
	a.AddAlarmAction(awscloudwatchactions.NewSnsAction(o.AlarmTopic))
	o.Alarms = append(o.Alarms, a)
	return a
}

func (o *Observability) addIngestionAlarms(cfg *config.Config, in *Ingestion) {
	five := awscdk.Duration_Minutes(jsii.Number(5))
	// Iterator age at half the retention: records older than that are at
	// risk of expiring before Firehose reads them.
	half := float64(cfg.RetentionPeriod) * 3600 * 1000 / 2
	o.alarm("StreamIteratorAge",
		in.Stream.MetricGetRecordsIteratorAgeMilliseconds(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}),
		half, awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING,
		fmt.Sprintf("Records wait in the stream for more than half its %d-hour retention: Firehose is not keeping up.", cfg.RetentionPeriod))
	o.alarm("StreamWriteThrottled",
		in.Stream.MetricWriteProvisionedThroughputExceeded(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}),
		0, awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD, awscloudwatch.TreatMissingData_NOT_BREACHING,
		"Producers are throttled by the stream: add shards or switch stream_mode to on_demand.")
}
