package stacks

import (
	"fmt"

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
	"github.com/example/datalake/constructs/audit"
	"github.com/example/datalake/constructs/dashboard"

	"github.com/example/datalake/constructs/lakebucket"
	"github.com/example/datalake/constructs/validator"
	"github.com/example/datalake/constructs/workgroup"
	"github.com/example/datalake/layout"
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

// Thresholds that are not config keys, each derived or documented here.
const (
	// FirehoseProcessorBufferSeconds is the validator's buffer interval in
	// the delivery stream (stacks/ingestion.go); records may wait that long
	// before the Lambda sees them.
	FirehoseProcessorBufferSeconds = 60
	// MaxAlarmWindowHours is CloudWatch's longest alarm window: Period x
	// EvaluationPeriods may not exceed 604,800 s (7 days) for periods of an
	// hour or more (PutMetricAlarm). Freshness windows beyond it are capped.
	MaxAlarmWindowHours = 7 * 24
	// LongRunPercent of job_timeout_minutes is when a running Glue job is
	// reported as "near its timeout" (see JobNotifyDelay).
	LongRunPercent = 80
	// ThrottlePeriods: the validator is throttled for this many 5-minute
	// periods in a row before it alarms; Firehose retries throttled calls,
	// so a short burst is harmless.
	ThrottlePeriods = 3
	// LatencyPeriods: p99 API latency above the threshold for this many
	// 5-minute periods in a row.
	LatencyPeriods = 3
)

// Glue event states that mean a job run did not finish its work.
var glueJobFailedStates = []string{"FAILED", "TIMEOUT", "STOPPED"}

// JobNotifyDelay is the NotifyDelayAfter a Glue job should carry: Glue then
// emits one "Glue Job Run Status" event when a run is still going at
// LongRunPercent of job_timeout_minutes, which the GlueJobRunLong rule turns
// into a notification before the run times out.
func JobNotifyDelay(timeoutMinutes int) awscdk.Duration {
	return awscdk.Duration_Minutes(jsii.Number(float64(max(1, timeoutMinutes*LongRunPercent/100))))
}

// FirehoseFreshnessThresholdSeconds is the age of the oldest record in
// Firehose above which delivery is late: two buffering intervals (one may
// be in flight when the next starts) plus the validator's own buffer.
func FirehoseFreshnessThresholdSeconds(bufferSeconds int) int {
	return 2*bufferSeconds + FirehoseProcessorBufferSeconds
}

// lakeEventsGroupName is the log group the arrival and job-state rules
// write to (the dashboard names it; a token would need the stack's output).
func lakeEventsGroupName(prefix string) string {
	return alarms.EventLogPrefix + prefix + "-lake-events"
}

func minutes(n float64) awscdk.Duration { return awscdk.Duration_Minutes(jsii.Number(n)) }

// stat returns metric options with a period and statistic.
func stat(period awscdk.Duration, statistic string) *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String(statistic)}
}

// --- ingestion ------------------------------------------------------------

func (o *Observability) addIngestionAlarms() {
	cfg, in := o.cfg, o.w
	five := minutes(5)
	gt := awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD
	lt := awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD
	// Streams, Firehose and Lambda publish nothing while no data flows, and
	// no data means nothing is failing: NOT_BREACHING everywhere below. A
	// lake that stops receiving data is caught by the curated freshness
	// alarms, which treat missing data as breaching.
	quiet := awscloudwatch.TreatMissingData_NOT_BREACHING

	// Iterator age at half the retention: records older than that are at
	// risk of expiring before Firehose reads them.
	o.notify.Alarm(alarms.Spec{ID: "StreamIteratorAge",
		Metric:    in.Stream.MetricGetRecordsIteratorAgeMilliseconds(stat(five, "Maximum")),
		Threshold: float64(cfg.RetentionPeriod) * 3600 * 1000 / 2,
		Op:        awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, Missing: quiet,
		Description: fmt.Sprintf("Records wait in the stream for more than half its %d-hour retention: Firehose is not keeping up.", cfg.RetentionPeriod)})
	o.notify.Alarm(alarms.Spec{ID: "StreamWriteThrottled",
		Metric:    in.Stream.MetricWriteProvisionedThroughputExceeded(stat(five, "Sum")),
		Threshold: 0, Op: gt, Missing: quiet,
		Description: "Producers are throttled by the stream: add shards or switch stream_mode to on_demand."})

	freshness := FirehoseFreshnessThresholdSeconds(cfg.FirehoseBufferSeconds)
	o.notify.Alarm(alarms.Spec{ID: "FirehoseDataFreshness",
		Metric:    in.DeliveryStream.Metric(jsii.String("DeliveryToS3.DataFreshness"), stat(five, "Maximum")),
		Threshold: float64(freshness), Op: gt, Missing: quiet,
		Description: fmt.Sprintf("The oldest record in Firehose is older than %d s (2 x firehose_buffer_seconds %d + validator buffer %d): delivery to the raw zone is late.",
			freshness, cfg.FirehoseBufferSeconds, FirehoseProcessorBufferSeconds)})
	o.notify.Alarm(alarms.Spec{ID: "FirehoseProcessingFailed",
		Metric:    in.DeliveryStream.Metric(jsii.String("ExecuteProcessing.Success"), stat(five, "Average")),
		Threshold: 1, Op: lt, Missing: quiet,
		Description: "Firehose could not invoke the validator for some batches (ExecuteProcessing.Success < 1): the records go to errors/processing-failed/ in the raw zone."})
	o.notify.Alarm(alarms.Spec{ID: "FirehoseDeliveryFailed",
		Metric:    in.DeliveryStream.Metric(jsii.String("DeliveryToS3.Success"), stat(five, "Average")),
		Threshold: 1, Op: lt, Missing: quiet,
		Description: "Firehose failed to write to the raw bucket (DeliveryToS3.Success < 1): check the Firehose log group and the raw bucket's key and policy."})

	if in.Validator != nil {
		v := in.Validator.Function
		o.notify.Alarm(alarms.Spec{ID: "ValidatorErrors",
			Metric:    v.MetricErrors(stat(five, "Sum")),
			Threshold: 0, Op: gt, Missing: quiet,
			Description: "The record validator Lambda failed (not a rejected record: the function itself errored). Firehose retries, then marks the batch failed."})
		o.notify.Alarm(alarms.Spec{ID: "ValidatorThrottles",
			Metric:    v.MetricThrottles(stat(five, "Sum")),
			Threshold: 0, Op: gt, Missing: quiet, Periods: ThrottlePeriods,
			Description: fmt.Sprintf("The record validator has been throttled for %d x 5 minutes: its reserved concurrency is too small for the stream's throughput.", ThrottlePeriods)})
		o.notify.Alarm(alarms.Spec{ID: "RecordsRejected",
			Metric:    in.Validator.MetricRecordsRejected(stat(five, "Sum")),
			Threshold: 0, Op: gt, Missing: quiet,
			Description: "The validator rejected records: they are under errors/processing-failed/ in the raw zone; search the validator's log group for \"record rejected\" to see why."})
	}
}

// addApiAlarms watches the REST API when the ingestion stack has one.
func (o *Observability) addApiAlarms() {
	api := o.w.Api
	if api == nil {
		return
	}
	cfg, five := o.cfg, minutes(5)
	// No requests, no errors and no latency: NOT_BREACHING.
	o.notify.Alarm(alarms.Spec{ID: "Api5xx",
		Metric:    api.MetricServerError(stat(five, "Sum")),
		Threshold: float64(cfg.Api5xxThreshold), Op: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		Missing:     awscloudwatch.TreatMissingData_NOT_BREACHING,
		Description: fmt.Sprintf("The ingestion API returned %d or more 5xx responses in 5 minutes (api_5xx_threshold): producers' records are not reaching the stream.", cfg.Api5xxThreshold)})
	o.notify.Alarm(alarms.Spec{ID: "ApiLatencyP99",
		Metric:    api.MetricLatency(stat(five, "p99")),
		Threshold: float64(cfg.ApiLatencyP99Ms), Op: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		Missing: awscloudwatch.TreatMissingData_NOT_BREACHING, Periods: LatencyPeriods,
		Description: fmt.Sprintf("p99 latency of the ingestion API is above %d ms (api_latency_p99_ms) for %d x 5 minutes.", cfg.ApiLatencyP99Ms, LatencyPeriods)})
}

// --- freshness ------------------------------------------------------------

// addRecorders creates the lake-events log group and the rules that write
// to it: one per dataset for new curated objects (the freshness alarms
// count the rule's matches) and one for Glue job state changes (the
// dashboard counts runs). A log group is the cheapest target that keeps a
// record worth reading; EventBridge needs a target for a rule to be useful.
func (o *Observability) addRecorders() {
	cfg, st := o.cfg, o.w
	events := alarms.NewEventLog(o.Stack, "LakeEvents", alarms.EventLogProps{
		Name: lakeEventsGroupName(cfg.Prefix()), Key: st.Key,
		Retention: retention(cfg.LogRetentionDays), Destroy: o.removal == awscdk.RemovalPolicy_DESTROY,
	})
	o.LakeEvents = events.Group
	for _, d := range cfg.Datasets {
		o.ArrivalRules[d.Name] = events.Record("CuratedArrivals-"+d.Name,
			"New objects in the curated "+d.Name+"_daily table (freshness of "+d.Name+")",
			&awsevents.EventPattern{
				Source:     jsii.Strings("aws.s3"),
				DetailType: jsii.Strings("Object Created"),
				Detail: &map[string]interface{}{
					"bucket": map[string]interface{}{"name": []*string{st.Curated.BucketName()}},
					// The Iceberg table's data files: written by a commit
					// that changed a day (a rerun commits nothing) and by
					// compaction, which has little to do on one file per
					// day and commit.
					"object": map[string]interface{}{"key": awsevents.Match_Prefix(jsii.String(layout.CuratedData(layout.DailyTable(d.Name))))},
				},
			})
	}
	if names := o.jobNames(); len(names) > 0 {
		o.jobRunsRule = events.Record("GlueJobRuns", "Every finished run of the lake's Glue jobs (dashboard)",
			&awsevents.EventPattern{
				Source:     jsii.Strings("aws.glue"),
				DetailType: jsii.Strings("Glue Job State Change"),
				Detail:     &map[string]interface{}{"jobName": names},
			})
	}
}

// FreshnessWindowHours is the alarm window of a dataset's freshness alarm:
// its freshness_hours, capped at MaxAlarmWindowHours (see there).
func FreshnessWindowHours(freshnessHours int) int { return min(freshnessHours, MaxAlarmWindowHours) }

// addFreshnessAlarms: one alarm per dataset that fires when its arrival
// rule matched nothing for freshness_hours.
func (o *Observability) addFreshnessAlarms() {
	for _, d := range o.cfg.Datasets {
		rule := o.ArrivalRules[d.Name]
		window := FreshnessWindowHours(d.FreshnessHours)
		desc := fmt.Sprintf("No new curated partition of %s for %d hours (freshness_hours): the pipeline raw -> processed -> curated stalled or its input stopped.", d.Name, window)
		a := o.notify.Alarm(alarms.Spec{ID: "CuratedFreshness-" + d.Name,
			Metric:    triggeredRules(rule, awscdk.Duration_Hours(jsii.Number(1))),
			Threshold: 1, Op: awscloudwatch.ComparisonOperator_LESS_THAN_THRESHOLD,
			// EventBridge publishes TriggeredRules only when the rule
			// matched: missing data IS the stale signal, so BREACHING. Every
			// hour of the window must be empty (datapoints = periods).
			Missing: awscloudwatch.TreatMissingData_BREACHING, Periods: window,
			Description: desc})
		if window < d.FreshnessHours {
			// CloudWatch cannot look further back; alarming early is the safe
			// side (a false page beats a silent stale table).
			awscdk.Annotations_Of(a).AddWarningV2(jsii.String("datalake:freshness-window-capped"), jsii.String(fmt.Sprintf(
				"dataset %s: freshness_hours %d exceeds CloudWatch's %d-hour alarm window; the alarm fires after %d hours without a new partition",
				d.Name, d.FreshnessHours, MaxAlarmWindowHours, MaxAlarmWindowHours)), nil)
		}
	}
}

// addQualityAlarms: one alarm per dataset whose quality job found failed
// rules. The job does not fail on them (one dataset must not stop the
// others' curated output); it publishes QualityFailed and the curated job
// skips the dataset, so this alarm is how the failure reaches people.
func (o *Observability) addQualityAlarms() {
	for _, d := range o.cfg.Datasets {
		o.notify.Alarm(alarms.Spec{ID: "QualityFailed-" + d.Name,
			Metric: awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String(QualityMetricsNamespace), MetricName: jsii.String("QualityFailed"),
				DimensionsMap: &map[string]*string{"Dataset": jsii.String(d.Name), "Environment": jsii.String(o.cfg.Prefix())},
				Period:        minutes(5), Statistic: jsii.String("Maximum"),
			}),
			Threshold: 0, Op: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			// One datapoint per quality run: no run, no news.
			Missing: awscloudwatch.TreatMissingData_NOT_BREACHING,
			Description: fmt.Sprintf("The data quality rules of %s failed: its curated tables (and joins using it) were not rebuilt. "+
				"The failed rules are in s3://<processed>/%s and the quality job's log.", d.Name, layout.Verdict(d.Name))})
	}
}

func triggeredRules(rule awsevents.Rule, period awscdk.Duration) awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("AWS/Events"), MetricName: jsii.String("TriggeredRules"),
		DimensionsMap: &map[string]*string{"RuleName": rule.RuleName()},
		Period:        period, Statistic: jsii.String("Sum"),
	})
}

// --- processing -----------------------------------------------------------

func (o *Observability) jobNames() []*string {
	var names []*string
	for _, j := range o.w.Jobs {
		names = append(names, j.JobName())
	}
	return names
}

// addProcessingAlerts notifies the topic straight from EventBridge for
// Glue job failures, crawler failures, long-running jobs and EMR
// Serverless job failures. Glue has no workflow-level failure event (its
// EventBridge events are job, crawler, catalog, data-quality and
// statistics events), so a failed workflow is reported through the job or
// crawler that failed in it.
func (o *Observability) addProcessingAlerts() {
	p, prefix := o.w, o.cfg.Prefix()
	field := func(path string) string { return *awsevents.EventField_FromPath(jsii.String(path)) }

	if names := o.jobNames(); len(names) > 0 {
		o.notify.OnEvent("GlueJobFailed", "A Glue job of the lake failed, timed out or was stopped",
			&awsevents.EventPattern{
				Source:     jsii.Strings("aws.glue"),
				DetailType: jsii.Strings("Glue Job State Change"),
				Detail:     &map[string]interface{}{"jobName": names, "state": jsii.Strings(glueJobFailedStates...)},
			},
			fmt.Sprintf("[%s] Glue job %s run %s ended %s: %s", prefix, field("$.detail.jobName"), field("$.detail.jobRunId"), field("$.detail.state"), field("$.detail.message")))
		// The metric glue.driver.aggregate.elapsedTime needs --enable-metrics
		// and reports 30-second deltas, so a threshold on it does not read
		// as "this run is N minutes old". Glue itself emits one Job Run
		// Status event when a run passes its NotifyDelayAfter
		// (JobNotifyDelay: 80% of job_timeout_minutes).
		o.notify.OnEvent("GlueJobRunLong", "A Glue job run of the lake is near its timeout",
			&awsevents.EventPattern{
				Source:     jsii.Strings("aws.glue"),
				DetailType: jsii.Strings("Glue Job Run Status"),
				Detail:     &map[string]interface{}{"jobName": names},
			},
			fmt.Sprintf("[%s] Glue job %s run %s is still %s after %d%% of its %d-minute timeout: %s", prefix,
				field("$.detail.jobName"), field("$.detail.jobRunId"), field("$.detail.state"), LongRunPercent, o.cfg.JobTimeoutMinutes, field("$.detail.message")))
	}
	if len(p.CrawlerNames) > 0 {
		o.notify.OnEvent("GlueCrawlerFailed", "A Glue crawler of the lake failed",
			&awsevents.EventPattern{
				Source:     jsii.Strings("aws.glue"),
				DetailType: jsii.Strings("Glue Crawler State Change"),
				Detail:     &map[string]interface{}{"crawlerName": p.CrawlerNames, "state": jsii.Strings("Failed")},
			},
			fmt.Sprintf("[%s] Glue crawler %s failed: %s", prefix, field("$.detail.crawlerName"), field("$.detail.errorMessage")))
	}
	if p.EmrApplicationId != nil {
		o.notify.OnEvent("EmrJobFailed", "An EMR Serverless job run of the lake failed",
			&awsevents.EventPattern{
				Source:     jsii.Strings("aws.emr-serverless"),
				DetailType: jsii.Strings("EMR Serverless Job Run State Change"),
				Detail:     &map[string]interface{}{"applicationId": []*string{p.EmrApplicationId}, "state": jsii.Strings("FAILED")},
			},
			// The event's documented fields are ids and states; the reason is
			// the job run's StateDetails (aws emr-serverless get-job-run).
			fmt.Sprintf("[%s] EMR Serverless job %s of application %s went from %s to %s: aws emr-serverless get-job-run --application-id %s --job-run-id %s shows why",
				prefix, field("$.detail.jobRunId"), field("$.detail.applicationId"), field("$.detail.previousState"), field("$.detail.state"), field("$.detail.applicationId"), field("$.detail.jobRunId")))
	}
}

// addDataErrorAlerts notifies the topic when data is set aside instead of
// flowing on: Firehose writing failed records under the raw zone's errors/
// prefix (validator rejections, dynamic-partitioning and delivery
// failures), the ETL quarantining rows, and the DMS task failing. The zone
// buckets send their S3 events to EventBridge (storage).
func (o *Observability) addDataErrorAlerts() {
	st, prefix := o.w, o.cfg.Prefix()
	field := func(path string) string { return *awsevents.EventField_FromPath(jsii.String(path)) }
	objectCreated := func(bucket *string, keyPrefix string) *awsevents.EventPattern {
		return &awsevents.EventPattern{
			Source:     jsii.Strings("aws.s3"),
			DetailType: jsii.Strings("Object Created"),
			Detail: &map[string]interface{}{
				"bucket": map[string]interface{}{"name": []*string{bucket}},
				"object": map[string]interface{}{"key": []interface{}{map[string]interface{}{"prefix": keyPrefix}}},
			},
		}
	}
	o.notify.OnEvent("RawErrorObjects", "Firehose wrote failed records under the raw zone's errors/ prefix",
		objectCreated(st.Raw.BucketName(), layout.Errors),
		fmt.Sprintf("[%s] Firehose wrote failed records to s3://%s/%s (the folder after errors/ names the failure type; the validator log has the reason per record)",
			prefix, field("$.detail.bucket.name"), field("$.detail.object.key")))
	o.notify.OnEvent("QuarantinedRows", "The raw -> processed job quarantined rows that fail their dataset's schema",
		objectCreated(st.Processed.BucketName(), layout.Quarantine),
		fmt.Sprintf("[%s] Rows were quarantined: s3://%s/%s (each line has _quarantine_reason)",
			prefix, field("$.detail.bucket.name"), field("$.detail.object.key")))
	if arn := o.w.ReplicationTaskArn; arn != nil {
		// DMS reports task failures as events of category Failure on the
		// task's ARN.
		o.notify.OnEvent("DmsTaskFailed", "The DMS replication task failed",
			&awsevents.EventPattern{
				Source:     jsii.Strings("aws.dms"),
				DetailType: jsii.Strings("DMS Replication Task State Change"),
				Resources:  &[]*string{arn},
				Detail:     &map[string]interface{}{"category": jsii.Strings("Failure")},
			},
			// DMS events carry the text in detail.detailMessage (DMS User
			// Guide, "Working with Amazon EventBridge events and
			// notifications", event examples); there is no detail.description.
			fmt.Sprintf("[%s] DMS replication task failed: %s (%s)", prefix, field("$.detail.eventType"), field("$.detail.detailMessage")))
	}
}

// --- cost -----------------------------------------------------------------

// bytesPerGB: config speaks GB; we count GiB like the bytes-scanned cutoff
// (athena_bytes_scanned_cutoff_mb is MiB).
const bytesPerGB = 1024 * 1024 * 1024

func (o *Observability) addQueryCostAlarms() {
	cfg := o.cfg
	o.notify.Alarm(alarms.Spec{ID: "AthenaDailyScanned",
		Metric:    o.w.WorkGroup.Metric("ProcessedBytes", stat(awscdk.Duration_Days(jsii.Number(1)), "Sum")),
		Threshold: float64(cfg.AthenaDailyScannedGB) * bytesPerGB,
		Op:        awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		// No queries in a day cost nothing.
		Missing:     awscloudwatch.TreatMissingData_NOT_BREACHING,
		Description: fmt.Sprintf("The Athena workgroup scanned more than %d GiB in a day (athena_daily_scanned_gb): look for queries without partition filters.", cfg.AthenaDailyScannedGB)})
}

// CostAllocationTag is the tag every resource of an environment carries
// with the value ${project}-${environment}; the budget counts the costs of
// resources with that tag only, so two environments (or other workloads)
// in one account do not share one budget. A user-defined tag counts in
// Budgets only after it is activated as a cost allocation tag in the
// Billing console (docs/deploy.md), and then for costs from that day on.
const CostAllocationTag = "lake-environment"

// addBudget creates the monthly cost budget of the environment, counting
// the resources tagged CostAllocationTag=<prefix> only; it notifies only
// when alarms are on.
func (o *Observability) addBudget(notify bool) {
	o.notify.Budget("MonthlyBudget", alarms.BudgetProps{
		LimitUSD: float64(o.cfg.MonthlyBudgetUsd),
		TagKey:   CostAllocationTag, TagValue: o.cfg.Prefix(),
		Notify: notify,
	})
}

// --- audit ----------------------------------------------------------------

// addAudit creates the trail (enable_cloudtrail) and the AWS Config rules
// (enable_config_rules) with their recorder (create_config_recorder).
func (o *Observability) addAudit() {
	cfg, st := o.cfg, o.w
	a := audit.New(o.Stack, audit.Props{
		Prefix:                         cfg.Prefix(),
		Key:                            st.Key,
		AccessLogs:                     st.AccessLogs,
		Removal:                        o.removal,
		NoncurrentVersionExpiration:    days(cfg.Lifecycle.NoncurrentVersionExpirationDays),
		AbortIncompleteMultipartUpload: days(cfg.Lifecycle.AbortIncompleteMultipartUploadDays),
		ObjectLock:                     objectLockRetention(cfg),
		Replication:                    o.auditReplication(),
		Trail:                          config.Bool(cfg.EnableCloudTrail),
		TrailLogRetention:              retention(cfg.LogRetentionDays),
		Zones:                          []audit.Zone{{ID: "Raw", Bucket: st.Raw}, {ID: "Processed", Bucket: st.Processed}, {ID: "Curated", Bucket: st.Curated}},
		ConfigRules:                    cfg.EnableConfigRules,
		ConfigRecorder:                 cfg.CreateConfigRecorder,
	})
	o.AuditBucket, o.Trail = a.Bucket, a.Trail
}

// auditReplication copies the audit files to the replication block's
// audit bucket (Object Lock must be on there too when it is on here).
func (o *Observability) auditReplication() *[]*awss3.ReplicationRule {
	r := o.cfg.Replication
	if !r.Enabled || r.AuditDestinationBucketArn == "" {
		return nil
	}
	return lakebucket.ReplicationRules(
		replicaBucket(o.Stack, "AuditReplica", r.AuditDestinationBucketArn, r.DestinationRegion),
		awskms.Key_FromKeyArn(o.Stack, jsii.String("AuditReplicaKey"), jsii.String(r.DestinationKmsKeyArn)))
}

// objectLockRetention is audit_object_lock_mode for audit_object_lock_days,
// nil when off.
func objectLockRetention(cfg *config.Config) awss3.ObjectLockRetention {
	d := awscdk.Duration_Days(jsii.Number(float64(cfg.AuditObjectLockDays)))
	switch cfg.AuditObjectLockMode {
	case config.ObjectLockGovernance:
		return awss3.ObjectLockRetention_Governance(d)
	case config.ObjectLockCompliance:
		return awss3.ObjectLockRetention_Compliance(d)
	}
	return nil
}

// --- dashboard ------------------------------------------------------------

// DashboardName is the CloudWatch dashboard of an environment.
func DashboardName(prefix string) string { return prefix + "-data-lake" }

// addDashboard builds the page that follows a record through the lake
// (constructs/dashboard) from what observability watches and created.
func (o *Observability) addDashboard() {
	cfg, in, hour := o.cfg, o.w, awscdk.Duration_Hours(jsii.Number(1))
	var runs []dashboard.Series
	if o.jobRunsRule != nil {
		runs = append(runs, dashboard.Series{Label: "job runs finished", Metric: triggeredRules(o.jobRunsRule, hour)})
	}
	for _, r := range o.FailureRules {
		runs = append(runs, dashboard.Series{Label: *r.Node().Id(), Metric: triggeredRules(r, hour)})
	}
	var arrivals []dashboard.Series
	for _, d := range cfg.Datasets {
		arrivals = append(arrivals, dashboard.Series{Label: d.Name + "_daily objects", Metric: triggeredRules(o.ArrivalRules[d.Name], hour)})
	}
	o.Dashboard = dashboard.New(o.Stack, dashboard.Props{
		Name:                  DashboardName(cfg.Prefix()),
		Title:                 cfg.Prefix(),
		EventsLogGroupName:    lakeEventsGroupName(cfg.Prefix()),
		Api:                   in.Api,
		Stream:                in.Stream,
		DeliveryStream:        in.DeliveryStream,
		Validator:             in.Validator,
		FreshnessAlarmSeconds: float64(FirehoseFreshnessThresholdSeconds(cfg.FirehoseBufferSeconds)),
		JobRuns:               runs,
		Arrivals:              arrivals,
		WorkGroup:             in.WorkGroup,
		DailyScanLimitBytes:   float64(cfg.AthenaDailyScannedGB) * bytesPerGB,
		DailyScanLimitLabel:   "athena_daily_scanned_gb",
		Alarms:                o.Alarms,
		NoAlarmsText:          "Alarms are off in this environment (enable_cloudwatch_alarms: false).",
	})
	output(o.Stack, "DashboardUrl", jsii.String(fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s",
		cfg.Region, cfg.Region, DashboardName(cfg.Prefix()))), "CloudWatch dashboard of the lake")
}
