package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// DashboardName is the CloudWatch dashboard of an environment.
func DashboardName(prefix string) string { return prefix + "-data-lake" }

// addDashboard builds one page that follows a record through the lake,
// top to bottom: ingestion -> raw -> processing -> curated -> queries, then
// the state of every alarm.
func (o *Observability) addDashboard() {
	cfg, in, five := o.cfg, o.w, minutes(5)
	graph := func(title string, left []awscloudwatch.IMetric, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
		p := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(8), Height: jsii.Number(6), Left: &left}
		if len(right) > 0 {
			p.Right = &right
		}
		return awscloudwatch.NewGraphWidget(p)
	}
	label := func(m awscloudwatch.Metric, l string) awscloudwatch.IMetric {
		return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(l)})
	}
	header := func(md string) []awscloudwatch.IWidget {
		return []awscloudwatch.IWidget{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Markdown: jsii.String(md), Width: jsii.Number(24), Height: jsii.Number(1)})}
	}
	var rows [][]awscloudwatch.IWidget

	rows = append(rows, []awscloudwatch.IWidget{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Markdown: jsii.String(fmt.Sprintf("# %s data lake\nproducers -> API -> Kinesis -> Firehose + validator -> **raw** -> Glue -> **processed** -> **curated** -> Athena. "+
			"Failures notify the alarm topic; partition arrivals and job runs are logged in `%s`.", cfg.Prefix(), "/aws/events/"+cfg.Prefix()+"-lake-events")),
		Width: jsii.Number(24), Height: jsii.Number(2),
	})})

	// 1. Ingestion.
	ingest := []awscloudwatch.IWidget{}
	if api := in.Api; api != nil {
		ingest = append(ingest,
			graph("API requests and 5xx", []awscloudwatch.IMetric{
				label(api.MetricCount(stat(five, "Sum")), "requests"),
				label(api.MetricServerError(stat(five, "Sum")), "5xx"),
				label(api.MetricClientError(stat(five, "Sum")), "4xx"),
			}, nil),
			graph("API latency", []awscloudwatch.IMetric{
				label(api.MetricLatency(stat(five, "p99")), "p99 ms"),
				label(api.MetricLatency(stat(five, "p50")), "p50 ms"),
			}, nil))
	}
	ingest = append(ingest, graph("Stream: incoming records, iterator age",
		[]awscloudwatch.IMetric{label(in.Stream.MetricIncomingRecords(stat(five, "Sum")), "incoming records")},
		[]awscloudwatch.IMetric{label(in.Stream.MetricGetRecordsIteratorAgeMilliseconds(stat(five, "Maximum")), "iterator age ms")}))
	rows = append(rows, header("## 1. Ingestion"), ingest)

	// 2. Raw zone.
	fh := in.DeliveryStream
	rows = append(rows, header("## 2. Raw zone (Firehose, validator)"), []awscloudwatch.IWidget{
		graph("Firehose delivery to S3",
			[]awscloudwatch.IMetric{label(fh.Metric(jsii.String("DeliveryToS3.Records"), stat(five, "Sum")), "records delivered")},
			[]awscloudwatch.IMetric{
				label(fh.Metric(jsii.String("DeliveryToS3.Success"), stat(five, "Average")), "delivery success"),
				label(fh.Metric(jsii.String("ExecuteProcessing.Success"), stat(five, "Average")), "processing success"),
			}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Firehose data freshness (s)"), Width: jsii.Number(8), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{label(fh.Metric(jsii.String("DeliveryToS3.DataFreshness"), stat(five, "Maximum")), "oldest record age")},
			LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{{
				Value: jsii.Number(float64(FirehoseFreshnessThresholdSeconds(cfg.FirehoseBufferSeconds))), Label: jsii.String("alarm"),
			}},
		}),
		graph("Validator: accepted / rejected records",
			[]awscloudwatch.IMetric{label(in.Validator.MetricRecordsAccepted(stat(five, "Sum")), "accepted")},
			[]awscloudwatch.IMetric{label(in.Validator.MetricRecordsRejected(stat(five, "Sum")), "rejected")}),
	})

	// 3. Processing.
	processing := []awscloudwatch.IWidget{}
	hour := awscdk.Duration_Hours(jsii.Number(1))
	runs := []awscloudwatch.IMetric{}
	if o.jobRunsRule != nil {
		runs = append(runs, label(triggeredRules(o.jobRunsRule, hour), "job runs finished"))
	}
	for _, r := range o.FailureRules {
		runs = append(runs, label(triggeredRules(r, hour), *r.Node().Id()))
	}
	if len(runs) > 0 {
		processing = append(processing, awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Glue job runs and failures (per hour)"), Width: jsii.Number(12), Height: jsii.Number(6), Left: &runs,
		}))
	} else {
		processing = append(processing, awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
			Markdown: jsii.String("No Glue jobs are deployed by the processing stack yet."), Width: jsii.Number(12), Height: jsii.Number(6),
		}))
	}
	rows = append(rows, header("## 3. Processing (Glue)"), processing)

	// 4. Curated freshness.
	arrivals := []awscloudwatch.IMetric{}
	for _, d := range cfg.Datasets {
		arrivals = append(arrivals, label(triggeredRules(o.ArrivalRules[d.Name], hour), d.Name+"_daily objects"))
	}
	rows = append(rows, header("## 4. Curated freshness (new objects per hour; an alarm fires after freshness_hours without one)"), []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Curated partitions written"), Width: jsii.Number(24), Height: jsii.Number(6), Left: &arrivals,
		}),
	})

	// 5. Queries.
	athena := func(name, statistic string, period awscdk.Duration) awscloudwatch.Metric {
		return o.w.WorkGroup.Metric(name, stat(period, statistic))
	}
	rows = append(rows, header("## 5. Queries (Athena)"), []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Bytes scanned per day"), Width: jsii.Number(12), Height: jsii.Number(6),
			Left: &[]awscloudwatch.IMetric{label(athena("ProcessedBytes", "Sum", awscdk.Duration_Days(jsii.Number(1))), "bytes scanned")},
			LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{{
				Value: jsii.Number(float64(cfg.AthenaDailyScannedGB) * bytesPerGB), Label: jsii.String("athena_daily_scanned_gb"),
			}},
		}),
		graph("Query time (ms)", []awscloudwatch.IMetric{
			label(athena("TotalExecutionTime", "p90", five), "total p90"),
			label(athena("QueryQueueTime", "p90", five), "queued p90"),
		}, nil),
	})

	// 6. Every alarm.
	if len(o.Alarms) > 0 {
		alarms := make([]interfacesawscloudwatch.IAlarmRef, 0, len(o.Alarms))
		for _, a := range o.Alarms {
			alarms = append(alarms, a)
		}
		rows = append(rows, []awscloudwatch.IWidget{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24), Height: jsii.Number(4),
			SortBy: awscloudwatch.AlarmStatusWidgetSortBy_STATE_UPDATED_TIMESTAMP,
		})})
	} else {
		rows = append(rows, header("Alarms are off in this environment (enable_cloudwatch_alarms: false)."))
	}

	widgets := make([]*[]awscloudwatch.IWidget, 0, len(rows))
	for i := range rows {
		widgets = append(widgets, &rows[i])
	}
	o.Dashboard = awscloudwatch.NewDashboard(o.Stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(DashboardName(cfg.Prefix())),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(7)),
		Widgets:         &widgets,
	})
	// cfn-lint's resource schema has no Tags on dashboards and rejects the
	// stack-wide tags; a dashboard holds no data to classify or bill.
	o.Dashboard.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(jsii.String("Tags"))
	output(o.Stack, "DashboardUrl", jsii.String(fmt.Sprintf("https://%s.console.aws.amazon.com/cloudwatch/home?region=%s#dashboards:name=%s",
		cfg.Region, cfg.Region, DashboardName(cfg.Prefix()))), "CloudWatch dashboard of the lake")
}
