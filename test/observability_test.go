package test

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/stacks"
)

// auditScenario is dev with the optional audit features on, the trail off
// and every alarm threshold moved off its default, so that each value can
// be traced to its key; EMR is on in the private network (TestEmrOnlyWhenEnabled).
func auditScenario() *scenario {
	return scenarioWith("audit", "dev", map[string]any{
		"enable_config_rules": true, "create_config_recorder": true, "enable_cloudtrail": false,
		"firehose_buffer_seconds": 300, "api_5xx_threshold": 9, "api_latency_p99_ms": 1234,
		"athena_daily_scanned_gb": 7, "monthly_budget_usd": 250, "log_retention_days": 90,
		"retention_period": 48, "enable_emr": true, "enable_vpc": true, "emr_max_vcpu": 32,
	}, stacks.Options{})
}

// byID returns the one resource whose logical id is the construct id
// (non-alphanumerics dropped) plus CDK's 8-character hash.
func byID(t *testing.T, tpl map[string]any, constructID string) (string, map[string]any) {
	t.Helper()
	re := regexp.MustCompile(`^` + regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(constructID, "") + `([0-9A-F]{8})?$`)
	for id, r := range tpl["Resources"].(map[string]any) {
		if re.MatchString(id) {
			return id, r.(map[string]any)
		}
	}
	t.Errorf("no resource for construct id %s", constructID)
	return "", map[string]any{"Properties": map[string]any{}}
}

func topicRef(t *testing.T, s *scenario) map[string]any {
	id, _ := byID(t, s.json("observability"), "AlarmTopic")
	return map[string]any{"Ref": id}
}

func importOf(stack, export string) any {
	return map[string]any{"Fn::ImportValue": assertions.Match_StringLikeRegexp(jsii.String("^" + stack + ":ExportsOutput.*" + export + ".*"))}
}

type alarmWant struct {
	id, namespace, metric string
	dims                  map[string]any
	threshold             float64
	op                    string
	periods               float64
	missing               string
	statistic             map[string]any
}

func alarmTable(s *scenario) []alarmWant {
	c, p := s.Cfg, "data-pipeline-"+s.Cfg.Environment.Environment+"-"
	sum := map[string]any{"Statistic": "Sum"}
	avg := map[string]any{"Statistic": "Average"}
	maxi := map[string]any{"Statistic": "Maximum"}
	want := []alarmWant{
		{"StreamIteratorAge", "AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", map[string]any{"StreamName": importOf(p+"ingestion", "Stream")},
			float64(c.RetentionPeriod) * 3600 * 1000 / 2, "GreaterThanOrEqualToThreshold", 1, "notBreaching", maxi},
		{"StreamWriteThrottled", "AWS/Kinesis", "WriteProvisionedThroughputExceeded", map[string]any{"StreamName": importOf(p+"ingestion", "Stream")},
			0, "GreaterThanThreshold", 1, "notBreaching", sum},
		{"FirehoseDataFreshness", "AWS/Firehose", "DeliveryToS3.DataFreshness", map[string]any{"DeliveryStreamName": importOf(p+"ingestion", "DeliveryStream")},
			float64(2*c.FirehoseBufferSeconds + 60), "GreaterThanThreshold", 1, "notBreaching", maxi},
		{"FirehoseProcessingFailed", "AWS/Firehose", "ExecuteProcessing.Success", map[string]any{"DeliveryStreamName": importOf(p+"ingestion", "DeliveryStream")},
			1, "LessThanThreshold", 1, "notBreaching", avg},
		{"FirehoseDeliveryFailed", "AWS/Firehose", "DeliveryToS3.Success", map[string]any{"DeliveryStreamName": importOf(p+"ingestion", "DeliveryStream")},
			1, "LessThanThreshold", 1, "notBreaching", avg},
		{"ValidatorErrors", "AWS/Lambda", "Errors", map[string]any{"FunctionName": importOf(p+"ingestion", "Validator")},
			0, "GreaterThanThreshold", 1, "notBreaching", sum},
		{"ValidatorThrottles", "AWS/Lambda", "Throttles", map[string]any{"FunctionName": importOf(p+"ingestion", "Validator")},
			0, "GreaterThanThreshold", stacks.ThrottlePeriods, "notBreaching", sum},
		{"RecordsRejected", "DataLake/Ingestion", "RecordsRejected", map[string]any{"Environment": c.Prefix()},
			0, "GreaterThanThreshold", 1, "notBreaching", sum},
		{"AthenaDailyScanned", "AWS/Athena", "ProcessedBytes", map[string]any{"WorkGroup": importOf(p+"analytics", "WorkGroup")},
			float64(c.AthenaDailyScannedGB) * 1024 * 1024 * 1024, "GreaterThanThreshold", 1, "notBreaching", map[string]any{"Statistic": "Sum", "Period": 86400}},
	}
	for _, d := range c.Datasets {
		arrivals, _ := byIDQuiet(s.json("observability"), "CuratedArrivals-"+d.Name)
		want = append(want, alarmWant{"CuratedFreshness-" + d.Name, "AWS/Events", "TriggeredRules", map[string]any{"RuleName": map[string]any{"Ref": arrivals}},
			1, "LessThanThreshold", float64(min(d.FreshnessHours, 168)), "breaching", map[string]any{"Statistic": "Sum", "Period": 3600}})
		want = append(want, alarmWant{"QualityFailed-" + d.Name, stacks.QualityMetricsNamespace, "QualityFailed", map[string]any{"Dataset": d.Name, "Environment": c.Prefix()},
			0, "GreaterThanThreshold", 1, "notBreaching", map[string]any{"Statistic": "Maximum", "Period": 300}})
	}
	if s.Lake.Ingestion.Api != nil {
		api := *s.Lake.Ingestion.Api.RestApiName()
		want = append(want,
			alarmWant{"Api5xx", "AWS/ApiGateway", "5XXError", map[string]any{"ApiName": api},
				float64(c.Api5xxThreshold), "GreaterThanOrEqualToThreshold", 1, "notBreaching", sum},
			alarmWant{"ApiLatencyP99", "AWS/ApiGateway", "Latency", map[string]any{"ApiName": api},
				float64(c.ApiLatencyP99Ms), "GreaterThanThreshold", stacks.LatencyPeriods, "notBreaching", map[string]any{"ExtendedStatistic": "p99"}})
	}
	return want
}

func byIDQuiet(tpl map[string]any, constructID string) (string, bool) {
	re := regexp.MustCompile(`^` + regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(constructID, "") + `([0-9A-F]{8})?$`)
	for id := range tpl["Resources"].(map[string]any) {
		if re.MatchString(id) {
			return id, true
		}
	}
	return "", false
}

// Each alarm: metric, namespace, dimensions on the right resource (an
// import where it lives in another stack), threshold from config, and the
// topic as its action. The audit scenario moves every threshold key.
func TestAlarmsWatchTheRightMetricWithConfiguredThresholds(t *testing.T) {
	for _, s := range []*scenario{dev, prod, auditScenario()} {
		tpl := s.tpl("observability")
		topic := topicRef(t, s)
		want := alarmTable(s)
		for _, w := range want {
			dims := []any{}
			names := make([]string, 0, len(w.dims))
			for k := range w.dims {
				names = append(names, k)
			}
			sort.Strings(names) // the CDK renders DimensionsMap sorted by name
			for _, k := range names {
				dims = append(dims, map[string]any{"Name": k, "Value": w.dims[k]})
			}
			p := map[string]any{
				"AlarmName":          "data-pipeline-" + s.Cfg.Environment.Environment + "-" + w.id,
				"Namespace":          w.namespace,
				"MetricName":         w.metric,
				"Dimensions":         dims,
				"Threshold":          w.threshold,
				"ComparisonOperator": w.op,
				"EvaluationPeriods":  w.periods,
				"DatapointsToAlarm":  w.periods,
				"TreatMissingData":   w.missing,
				"AlarmActions":       []any{topic},
			}
			for k, v := range w.statistic {
				p[k] = v
			}
			check(t, s.Cfg.Name+"/"+w.id, func() { tpl.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), p) })
		}
		// Nothing else: every alarm in the template is in the table.
		if got := len(resources(s.json("observability"), "AWS::CloudWatch::Alarm")); got != len(want) {
			t.Errorf("%s: %d alarms, want %d", s.Cfg.Name, got, len(want))
		}
	}
	// The derived thresholds really moved with their keys.
	a := auditScenario()
	for id, v := range map[string]float64{"FirehoseDataFreshness": 660, "AthenaDailyScanned": 7 * 1 << 30, "Api5xx": 9, "ApiLatencyP99": 1234, "StreamIteratorAge": 48 * 3600 * 1000 / 2} {
		if id == "Api5xx" || id == "ApiLatencyP99" {
			if a.Lake.Ingestion.Api == nil {
				continue
			}
		}
		_, r := byID(t, a.json("observability"), id)
		if got := props(r)["Threshold"]; got != v {
			t.Errorf("audit scenario %s threshold = %v, want %v", id, got, v)
		}
	}
}

func TestNoAlarmsWhenAlarmsAreDisabled(t *testing.T) {
	tpl := devCustom.json("observability")
	if n := len(resources(tpl, "AWS::CloudWatch::Alarm")); n != 0 {
		t.Errorf("devCustom (enable_cloudwatch_alarms false) has %d alarms", n)
	}
	topic := topicRef(t, devCustom)
	for id, r := range resources(tpl, "AWS::Events::Rule") {
		b, _ := json.Marshal(props(r)["Targets"])
		tb, _ := json.Marshal(topic)
		if strings.Contains(string(b), string(tb)) {
			t.Errorf("rule %s notifies the topic although alarms are off", id)
		}
	}
	for id, r := range resources(tpl, "AWS::Budgets::Budget") {
		if _, ok := props(r)["NotificationsWithSubscribers"]; ok {
			t.Errorf("budget %s notifies although alarms are off", id)
		}
	}
	if len(devCustom.Lake.Observability.Alarms)+len(devCustom.Lake.Observability.FailureRules) != 0 {
		t.Errorf("Observability lists alarms/rules although alarms are off")
	}
}

func TestGlueFailureRulesNotifyTheTopic(t *testing.T) {
	s := dev
	tpl := s.tpl("observability")
	topic := topicRef(t, s)
	jobs := []any{}
	for range s.Lake.Processing.Jobs {
		jobs = append(jobs, importOf("data-pipeline-dev-processing", ""))
	}
	if len(jobs) == 0 {
		t.Fatal("the processing stack exports no Glue jobs: nothing to alarm on")
	}
	check(t, "job failed", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"EventPattern": map[string]any{
				"source":      []any{"aws.glue"},
				"detail-type": []any{"Glue Job State Change"},
				"detail":      map[string]any{"jobName": jobs, "state": []any{"FAILED", "TIMEOUT", "STOPPED"}},
			},
			"Targets": []any{map[string]any{
				"Arn": topic,
				"InputTransformer": map[string]any{
					"InputPathsMap": map[string]any{"detail-jobName": "$.detail.jobName", "detail-state": "$.detail.state", "detail-jobRunId": "$.detail.jobRunId", "detail-message": "$.detail.message"},
					"InputTemplate": assertions.Match_StringLikeRegexp(jsii.String(`Glue job <detail-jobName> run <detail-jobRunId> ended <detail-state>`)),
				},
			}},
		})
	})
	check(t, "job near timeout", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"EventPattern": map[string]any{"source": []any{"aws.glue"}, "detail-type": []any{"Glue Job Run Status"}, "detail": map[string]any{"jobName": jobs}},
			"Targets":      []any{assertions.Match_ObjectLike(&map[string]any{"Arn": topic})},
		})
	})
	crawlers := []any{}
	for range s.Lake.Processing.CrawlerNames {
		crawlers = append(crawlers, importOf("data-pipeline-dev-processing", ""))
	}
	if len(crawlers) == 0 {
		t.Fatal("the processing stack exports no crawlers")
	}
	check(t, "crawler failed", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"EventPattern": map[string]any{
				"source":      []any{"aws.glue"},
				"detail-type": []any{"Glue Crawler State Change"},
				"detail":      map[string]any{"crawlerName": crawlers, "state": []any{"Failed"}},
			},
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{
				"Arn":              topic,
				"InputTransformer": assertions.Match_ObjectLike(&map[string]any{"InputTemplate": assertions.Match_StringLikeRegexp(jsii.String("Glue crawler <detail-crawlerName> failed"))}),
			})},
		})
	})
	// EMR Serverless (audit scenario has enable_emr) reports failed runs.
	a := auditScenario()
	if a.Lake.Processing.EmrApplicationId == nil {
		t.Fatal("enable_emr did not create the EMR Serverless application")
	}
	check(t, "emr job failed", func() {
		a.tpl("observability").HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
			"EventPattern": map[string]any{
				"source": []any{"aws.emr-serverless"}, "detail-type": []any{"EMR Serverless Job Run State Change"},
				"detail": map[string]any{"applicationId": []any{importOf("data-pipeline-dev-processing", "")}, "state": []any{"FAILED"}},
			},
			"Targets": []any{assertions.Match_ObjectLike(&map[string]any{"Arn": topicRef(t, a)})},
		})
	})
	// The topic admits only CloudWatch, EventBridge and Budgets of this
	// account: the rules' targets add no unconditioned statement.
	for _, r := range resources(s.json("observability"), "AWS::SNS::TopicPolicy") {
		for _, st := range props(r)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			m := st.(map[string]any)
			if m["Effect"] != "Allow" {
				continue
			}
			cond, _ := json.Marshal(m["Condition"])
			if !strings.Contains(string(cond), "aws:SourceAccount") {
				t.Errorf("topic policy statement %v has no aws:SourceAccount condition", m["Sid"])
			}
		}
	}
}

func TestBudgetAmountAndNotifications(t *testing.T) {
	for _, s := range []*scenario{dev, auditScenario()} {
		topic := topicRef(t, s)
		subs := []any{
			map[string]any{"SubscriptionType": "SNS", "Address": topic},
			map[string]any{"SubscriptionType": "EMAIL", "Address": s.Cfg.AlarmEmailAddress},
		}
		note := func(kind string, pct float64) any {
			return map[string]any{
				"Notification": map[string]any{"NotificationType": kind, "ComparisonOperator": "GREATER_THAN", "Threshold": pct, "ThresholdType": "PERCENTAGE"},
				"Subscribers":  subs,
			}
		}
		check(t, s.Cfg.Name+" budget", func() {
			s.tpl("observability").HasResourceProperties(jsii.String("AWS::Budgets::Budget"), map[string]any{
				"Budget": map[string]any{
					"BudgetName": s.Cfg.Prefix() + "-monthly", "BudgetType": "COST", "TimeUnit": "MONTHLY",
					"BudgetLimit": map[string]any{"Amount": float64(s.Cfg.MonthlyBudgetUsd), "Unit": "USD"},
				},
				"NotificationsWithSubscribers": []any{note("ACTUAL", 80), note("ACTUAL", 100), note("FORECASTED", 100)},
			})
		})
	}
	if auditScenario().Cfg.MonthlyBudgetUsd != 250 {
		t.Error("audit scenario should move monthly_budget_usd")
	}
}

func TestTrailLogsDataEventsOfTheLakeBuckets(t *testing.T) {
	tpl := dev.tpl("observability")
	bucketArn := func(id string) any {
		return map[string]any{"Fn::Join": []any{"", []any{importOf("data-pipeline-dev-storage", id+".*Arn"), "/"}}}
	}
	audit, _ := byID(t, dev.json("observability"), "AuditBucket")
	logs, _ := byID(t, dev.json("observability"), "TrailLogs")
	check(t, "trail", func() {
		tpl.HasResourceProperties(jsii.String("AWS::CloudTrail::Trail"), map[string]any{
			"TrailName":                  "data-pipeline-dev-trail",
			"EnableLogFileValidation":    true,
			"IsMultiRegionTrail":         true,
			"IncludeGlobalServiceEvents": true,
			"IsLogging":                  true,
			"KMSKeyId":                   importOf("data-pipeline-dev-storage", "LakeKey.*Arn"),
			"S3BucketName":               map[string]any{"Ref": audit},
			"CloudWatchLogsLogGroupArn":  map[string]any{"Fn::GetAtt": []any{logs, "Arn"}},
			"EventSelectors": []any{
				map[string]any{"IncludeManagementEvents": true, "ReadWriteType": "All"},
				map[string]any{
					"IncludeManagementEvents": false, "ReadWriteType": "All",
					"DataResources": []any{map[string]any{"Type": "AWS::S3::Object", "Values": []any{
						bucketArn("RawBucket"), bucketArn("ProcessedBucket"), bucketArn("CuratedBucket"),
					}}},
				},
			},
		})
	})
	check(t, "trail log group", func() {
		tpl.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{
			"KmsKeyId": importOf("data-pipeline-dev-storage", "LakeKey.*Arn"), "RetentionInDays": float64(dev.Cfg.LogRetentionDays),
		})
	})
	check(t, "audit bucket", func() {
		tpl.HasResource(jsii.String("AWS::S3::Bucket"), map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": map[string]any{
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"BucketKeyEnabled":              true,
					"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": importOf("data-pipeline-dev-storage", "LakeKey.*Arn")},
				}}},
				"VersioningConfiguration": map[string]any{"Status": "Enabled"},
				"LoggingConfiguration": map[string]any{
					"DestinationBucketName": importOf("data-pipeline-dev-storage", "AccessLogsBucket"),
					"LogFilePrefix":         "AuditBucket/",
				},
				"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
			},
		})
	})
	check(t, "audit bucket TLS only", func() {
		tpl.HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"Bucket": map[string]any{"Ref": audit},
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect": "Deny", "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
	// Access logs of the audit bucket land in storage's log bucket, limited
	// to this account's buckets.
	check(t, "access-log delivery limited to this account", func() {
		dev.tpl("storage").HasResourceProperties(jsii.String("AWS::S3::BucketPolicy"), map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Sid": "AuditBucketLogsFromThisAccountOnly", "Effect": "Deny", "Action": "s3:PutObject",
				"Principal": map[string]any{"Service": "logging.s3.amazonaws.com"},
				"Condition": map[string]any{"StringNotEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}}},
			})})},
		})
	})
	// enable_cloudtrail: false removes the trail (the bucket stays for Config).
	if n := len(resources(auditScenario().json("observability"), "AWS::CloudTrail::Trail")); n != 0 {
		t.Errorf("enable_cloudtrail false still creates %d trails", n)
	}
}

func TestConfigRulesOnlyWhenEnabled(t *testing.T) {
	for _, s := range []*scenario{dev, prod, devCustom} {
		for _, typ := range []string{"AWS::Config::ConfigRule", "AWS::Config::ConfigurationRecorder", "AWS::Config::DeliveryChannel"} {
			if n := len(resources(s.json("observability"), typ)); n != 0 {
				t.Errorf("%s: %d %s although enable_config_rules is off", s.Cfg.Name, n, typ)
			}
		}
	}
	s := auditScenario()
	tpl := s.json("observability")
	rules := resources(tpl, "AWS::Config::ConfigRule")
	recorder, _ := byID(t, tpl, "ConfigRecorder")
	channel, _ := byID(t, tpl, "ConfigDeliveryChannel")
	got := map[string]int{}
	for id, r := range rules {
		p := props(r)
		ident := p["Source"].(map[string]any)["SourceIdentifier"].(string)
		got[ident]++
		deps, _ := json.Marshal(r["DependsOn"])
		if !strings.Contains(string(deps), recorder) || !strings.Contains(string(deps), channel) {
			t.Errorf("rule %s does not wait for the recorder and channel (DependsOn %s)", id, deps)
		}
		if strings.HasPrefix(ident, "S3_") {
			scope, _ := json.Marshal(p["Scope"])
			if !regexp.MustCompile(`"ComplianceResourceId":\{"Fn::ImportValue":"data-pipeline-dev-storage:ExportsOutputRef(Raw|Processed|Curated)Bucket`).Match(scope) ||
				!strings.Contains(string(scope), `"ComplianceResourceTypes":["AWS::S3::Bucket"]`) {
				t.Errorf("S3 rule %s is not scoped to one zone bucket: %s", id, scope)
			}
		}
	}
	want := map[string]int{
		"S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": 3, "S3_BUCKET_SSL_REQUESTS_ONLY": 3,
		"S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED": 3, "S3_BUCKET_VERSIONING_ENABLED": 3,
		"CMK_BACKING_KEY_ROTATION_ENABLED": 1, "CLOUD_TRAIL_ENABLED": 1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s rules = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	check(t, "recorder", func() {
		s.tpl("observability").HasResourceProperties(jsii.String("AWS::Config::ConfigurationRecorder"), map[string]any{
			"RecordingGroup": map[string]any{"AllSupported": false, "IncludeGlobalResourceTypes": false,
				"ResourceTypes": []any{"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::CloudTrail::Trail"}},
		})
	})
	check(t, "channel", func() {
		s.tpl("observability").HasResourceProperties(jsii.String("AWS::Config::DeliveryChannel"), map[string]any{
			"S3KmsKeyArn": importOf("data-pipeline-dev-storage", "LakeKey.*Arn"), "S3KeyPrefix": "config",
		})
	})
	for stack, msgs := range s.errors {
		for _, m := range msgs {
			t.Errorf("audit scenario %s: %s", stack, m)
		}
	}
}

// Every log group of every stack keeps logs exactly as long as config says.
func TestEveryLogGroupHasConfiguredRetention(t *testing.T) {
	for _, s := range []*scenario{dev, prod, auditScenario()} {
		for _, layer := range stacks.Layers {
			tpl := s.json(layer)
			for id, r := range resources(tpl, "AWS::Logs::LogGroup") {
				got, ok := props(r)["RetentionInDays"]
				if !ok || got != float64(s.Cfg.LogRetentionDays) {
					t.Errorf("%s/%s: log group %s RetentionInDays = %v, want %d (log_retention_days)", s.Cfg.Name, layer, id, got, s.Cfg.LogRetentionDays)
				}
			}
			for id, r := range resources(tpl, "Custom::LogRetention") {
				if got := props(r)["RetentionInDays"]; got != float64(s.Cfg.LogRetentionDays) {
					t.Errorf("%s/%s: log retention %s = %v, want %d", s.Cfg.Name, layer, id, got, s.Cfg.LogRetentionDays)
				}
			}
		}
	}
}

func TestDashboardFollowsTheFlow(t *testing.T) {
	tpl := dev.json("observability")
	dashboards := resources(tpl, "AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("%d dashboards, want 1", len(dashboards))
	}
	var body string
	for _, d := range dashboards {
		if props(d)["DashboardName"] != "data-pipeline-dev-data-lake" {
			t.Errorf("dashboard name = %v", props(d)["DashboardName"])
		}
		b, _ := json.Marshal(props(d)["DashboardBody"])
		body = string(b)
	}
	// Stages in order, top to bottom.
	last := -1
	for _, stage := range []string{"1. Ingestion", "2. Raw zone", "3. Processing", "4. Curated freshness", "5. Queries"} {
		i := strings.Index(body, stage)
		if i < 0 || i < last {
			t.Errorf("dashboard stage %q missing or out of order", stage)
		}
		last = i
	}
	metrics := []string{"IncomingRecords", "GetRecords.IteratorAgeMilliseconds", "DeliveryToS3.Records", "DeliveryToS3.DataFreshness",
		"RecordsAccepted", "RecordsRejected", "TriggeredRules", "ProcessedBytes", "TotalExecutionTime"}
	if dev.Lake.Ingestion.Api != nil {
		metrics = append(metrics, "5XXError", "Latency", `\"Count\"`)
	}
	for _, m := range metrics {
		if !strings.Contains(body, m) {
			t.Errorf("dashboard shows no %s", m)
		}
	}
	// The alarm widget lists every alarm.
	for id := range resources(tpl, "AWS::CloudWatch::Alarm") {
		if !strings.Contains(body, `"`+id+`\",\"Arn\"`) && !strings.Contains(body, `["`+id+`","Arn"]`) {
			t.Errorf("alarm %s is not on the dashboard", id)
		}
	}
	out := tpl["Outputs"].(map[string]any)["DashboardUrl"].(map[string]any)["Value"]
	if out != "https://us-west-2.console.aws.amazon.com/cloudwatch/home?region=us-west-2#dashboards:name=data-pipeline-dev-data-lake" {
		t.Errorf("DashboardUrl output = %v", out)
	}
}

func TestFreshnessWindowRespectsCloudWatchLimit(t *testing.T) {
	for in, want := range map[int]int{1: 1, 26: 26, 168: 168, 169: 168, 744: 168} {
		if got := stacks.FreshnessWindowHours(in); got != want {
			t.Errorf("FreshnessWindowHours(%d) = %d, want %d", in, got, want)
		}
		// Period (1 h) x EvaluationPeriods must stay within 604,800 s.
		if stacks.FreshnessWindowHours(in)*3600 > 604800 {
			t.Errorf("window of %d hours exceeds CloudWatch's 7 days", in)
		}
	}
	if got := stacks.FirehoseFreshnessThresholdSeconds(900); got != 1860 {
		t.Errorf("FirehoseFreshnessThresholdSeconds(900) = %d, want 1860", got)
	}
	if got := *stacks.JobNotifyDelay(120).ToMinutes(nil); got != 96 {
		t.Errorf("JobNotifyDelay(120) = %v minutes, want 96", got)
	}
}

// coverage maps every failure mode the lake promises to alert on to the
// alarm or EventBridge rule (construct id) that covers it. A mode without
// its alarm, or an alarm that does not notify the topic, fails the test.
func TestEveryFailureModeIsCovered(t *testing.T) {
	s := dev
	type row struct{ mode, id, kind string }
	rows := []row{
		{"records wait in the stream (Firehose behind)", "StreamIteratorAge", "alarm"},
		{"producers throttled by the stream", "StreamWriteThrottled", "alarm"},
		{"raw delivery late (Firehose data freshness)", "FirehoseDataFreshness", "alarm"},
		{"Firehose cannot invoke the validator", "FirehoseProcessingFailed", "alarm"},
		{"Firehose cannot write to S3", "FirehoseDeliveryFailed", "alarm"},
		{"validator Lambda errors", "ValidatorErrors", "alarm"},
		{"validator Lambda throttled", "ValidatorThrottles", "alarm"},
		{"records rejected by the validator", "RecordsRejected", "alarm"},
		{"API 5xx", "Api5xx", "alarm"},
		{"API p99 latency", "ApiLatencyP99", "alarm"},
		{"Glue job failed/timed out/stopped", "GlueJobFailed", "rule"},
		{"Glue job near its timeout", "GlueJobRunLong", "rule"},
		{"Glue crawler failed", "GlueCrawlerFailed", "rule"},
		{"Athena scans too much per day", "AthenaDailyScanned", "alarm"},
		{"monthly cost over budget", "MonthlyBudget", "budget"},
	}
	for _, d := range s.Cfg.Datasets {
		rows = append(rows, row{"no new curated partition of " + d.Name, "CuratedFreshness-" + d.Name, "alarm"})
		rows = append(rows, row{"quality rules of " + d.Name + " failed (its curated output skipped)", "QualityFailed-" + d.Name, "alarm"})
	}
	if s.Lake.Processing.EmrApplicationId != nil {
		rows = append(rows, row{"EMR Serverless job failed", "EmrJobFailed", "rule"})
	}
	tpl := s.json("observability")
	topic, _ := json.Marshal(topicRef(t, s))
	for _, r := range rows {
		id, ok := byIDQuiet(tpl, r.id)
		if !ok {
			t.Errorf("failure mode %q: no %s %s", r.mode, r.kind, r.id)
			continue
		}
		res := tpl["Resources"].(map[string]any)[id].(map[string]any)
		var routed []byte
		switch r.kind {
		case "alarm":
			routed, _ = json.Marshal(props(res)["AlarmActions"])
		case "rule":
			routed, _ = json.Marshal(props(res)["Targets"])
		case "budget":
			routed, _ = json.Marshal(props(res)["NotificationsWithSubscribers"])
		}
		if !strings.Contains(string(routed), string(topic)) {
			t.Errorf("failure mode %q: %s does not notify the alarm topic", r.mode, r.id)
		}
	}
}
