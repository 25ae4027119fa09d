package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/alarms"
	"github.com/example/datalake/constructs/validator"
	"github.com/example/datalake/constructs/workgroup"
)

// ObservabilityProps configure the observability stack.
type ObservabilityProps struct {
	StackProps awscdk.StackProps
	Config     *config.Config
	// Watched is what the stack watches, taken from the other stacks.
	// Observability depends on all of them, never the other way round.
	Watched Watched
	// Destroy lets `cdk destroy` delete the trail bucket and log groups.
	// Default: false (retain).
	Destroy bool
}

// Watched is everything the observability stack alarms on, reports or
// audits, typed: it never reaches into the other stacks.
type Watched struct {
	// Key encrypts the alarm topic, the trail, the audit bucket and logs.
	Key awskms.IKey
	// The zone buckets (trail data events, Config rules, S3 events) and the
	// access-log bucket (the audit bucket's server access logs).
	Raw, Processed, Curated, AccessLogs awss3.IBucket
	// The ingestion path: stream, delivery stream, validator, REST API
	// (nil when there is none) and the DMS task (nil unless dms.enabled).
	Stream             awskinesis.IStream
	DeliveryStream     awskinesisfirehose.IDeliveryStream
	Validator          *validator.Validator
	Api                awsapigateway.RestApi
	ReplicationTaskArn *string
	// The processing: every Glue job, the crawlers and the EMR Serverless
	// application (nil unless enable_emr).
	Jobs             []awsglue.IJob
	CrawlerNames     []*string
	EmrApplicationId *string
	// WorkGroup is the Athena workgroup whose scans are alarmed on.
	WorkGroup *workgroup.WorkGroup
}

// Observability owns the alarm topic, the alarms, the event rules that
// report failures, the dashboard and the audit trail.
type Observability struct {
	Stack      awscdk.Stack
	AlarmTopic awssns.ITopic
	// Alarms lists every CloudWatch alarm created (empty when
	// enable_cloudwatch_alarms is false).
	Alarms []awscloudwatch.IAlarm
	// FailureRules are the EventBridge rules that notify the topic directly
	// (Glue job/crawler failures, long runs, EMR job failures); empty when
	// alarms are disabled.
	FailureRules []awsevents.Rule
	// ArrivalRules record, per dataset, each new object under its curated
	// `<dataset>_daily/dt=` prefix; the freshness alarms watch them.
	ArrivalRules map[string]awsevents.Rule
	// LakeEvents is the log group the arrival and job-state rules write
	// to: a cheap target that also answers "when did this partition land".
	LakeEvents awslogs.ILogGroup
	Dashboard  awscloudwatch.Dashboard
	// Trail and AuditBucket exist when enable_cloudtrail is true (the
	// bucket also when the Config recorder needs a delivery channel).
	Trail       awscloudtrail.Trail
	AuditBucket awss3.IBucket

	cfg     *config.Config
	w       Watched
	notify  *alarms.Alarms
	removal awscdk.RemovalPolicy
	// jobRunsRule records every terminal Glue job state (dashboard).
	jobRunsRule awsevents.Rule
}

// NewObservability builds the observability stack.
func NewObservability(scope constructs.Construct, id string, props ObservabilityProps) *Observability {
	cfg := props.Config
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	o := &Observability{Stack: stack, cfg: cfg, w: props.Watched, removal: removalPolicy(props.Destroy), ArrivalRules: map[string]awsevents.Rule{}}

	o.notify = alarms.New(stack, "AlarmTopic", alarms.Props{
		NamePrefix:  cfg.Prefix(),
		DisplayName: cfg.Prefix() + " data lake alarms",
		Key:         props.Watched.Key,
		Email:       cfg.AlarmEmailAddress,
	})
	o.AlarmTopic = o.notify.Topic

	// Recorders (arrival and job-state rules into a log group) exist in
	// every environment: the dashboard graphs them. Everything that
	// notifies exists only when alarms are on.
	o.addRecorders()
	alarms := config.Bool(cfg.EnableCloudwatchAlarms)
	if alarms {
		o.addIngestionAlarms()
		o.addFreshnessAlarms()
		o.addQualityAlarms()
		o.addProcessingAlerts()
		o.addDataErrorAlerts()
		o.addApiAlarms()
		o.addQueryCostAlarms()
	}
	o.addBudget(alarms)
	o.addAudit()
	for _, a := range o.notify.Alarms {
		o.Alarms = append(o.Alarms, a)
	}
	o.FailureRules = o.notify.Rules
	o.addDashboard()

	output(stack, "AlarmTopicArn", o.AlarmTopic.TopicArn(), "SNS topic every alarm notifies")
	return o
}
