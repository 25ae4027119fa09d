// Package dashboard is the lake's CloudWatch dashboard: one page that
// follows a record through the lake, top to bottom (ingestion -> raw ->
// processing -> curated -> queries), then the state of every alarm.
package dashboard

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/validator"
	"github.com/example/datalake/constructs/workgroup"
)

// Series is one labelled line of a graph.
type Series struct {
	Label  string
	Metric awscloudwatch.Metric
}

// Props configure the dashboard.
type Props struct {
	// Name of the dashboard; Title heads the page. Required.
	Name, Title string
	// EventsLogGroupName is where partition arrivals and job runs are
	// logged (named in the page's introduction). Required.
	EventsLogGroupName string
	// Api is the REST API in front of the stream. Default: nil, no API row.
	Api awsapigateway.RestApi
	// Stream, DeliveryStream and Validator: the ingestion path. Required.
	Stream         awskinesis.IStream
	DeliveryStream awskinesisfirehose.IDeliveryStream
	Validator      *validator.Validator
	// FreshnessAlarmSeconds marks the Firehose freshness alarm threshold.
	// Default: 0, no mark.
	FreshnessAlarmSeconds float64
	// JobRuns are hourly counts of job runs and failures. Default: none
	// (a note says no jobs are deployed).
	JobRuns []Series
	// Arrivals are hourly counts of new curated objects, per dataset.
	Arrivals []Series
	// WorkGroup is the Athena workgroup; DailyScanLimitBytes marks its
	// alarm threshold on the bytes-scanned graph. WorkGroup is required.
	WorkGroup           *workgroup.WorkGroup
	DailyScanLimitBytes float64
	// DailyScanLimitLabel labels that mark. Default: "alarm".
	DailyScanLimitLabel string
	// Alarms are shown by state; NoAlarmsText replaces them when there are
	// none. Default text: "No alarms in this environment."
	Alarms       []awscloudwatch.IAlarm
	NoAlarmsText string
}

// New builds the dashboard in scope with the id "Dashboard".
func New(scope constructs.Construct, p Props) awscloudwatch.Dashboard {
	if p.Name == "" || p.Stream == nil || p.DeliveryStream == nil || p.Validator == nil || p.WorkGroup == nil {
		panic("dashboard: Name, Stream, DeliveryStream, Validator and WorkGroup are required")
	}
	if p.NoAlarmsText == "" {
		p.NoAlarmsText = "No alarms in this environment."
	}
	if p.DailyScanLimitLabel == "" {
		p.DailyScanLimitLabel = "alarm"
	}
	five := awscdk.Duration_Minutes(jsii.Number(5))
	var rows [][]awscloudwatch.IWidget
	rows = append(rows, []awscloudwatch.IWidget{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
		Markdown: jsii.String(fmt.Sprintf("# %s data lake\nproducers -> API -> Kinesis -> Firehose + validator -> **raw** -> Glue -> **processed** -> **curated** -> Athena. "+
			"Failures notify the alarm topic; partition arrivals and job runs are logged in `%s`.", p.Title, p.EventsLogGroupName)),
		Width: jsii.Number(24), Height: jsii.Number(2),
	})})

	// 1. Ingestion.
	ingest := []awscloudwatch.IWidget{}
	if api := p.Api; api != nil {
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
		[]awscloudwatch.IMetric{label(p.Stream.MetricIncomingRecords(stat(five, "Sum")), "incoming records")},
		[]awscloudwatch.IMetric{label(p.Stream.MetricGetRecordsIteratorAgeMilliseconds(stat(five, "Maximum")), "iterator age ms")}))
	rows = append(rows, header("## 1. Ingestion"), ingest)

	// 2. Raw zone.
	fh := p.DeliveryStream
	freshness := &awscloudwatch.GraphWidgetProps{
		Title: jsii.String("Firehose data freshness (s)"), Width: jsii.Number(8), Height: jsii.Number(6),
		Left: &[]awscloudwatch.IMetric{label(fh.Metric(jsii.String("DeliveryToS3.DataFreshness"), stat(five, "Maximum")), "oldest record age")},
	}
	if p.FreshnessAlarmSeconds > 0 {
		freshness.LeftAnnotations = &[]*awscloudwatch.HorizontalAnnotation{{Value: jsii.Number(p.FreshnessAlarmSeconds), Label: jsii.String("alarm")}}
	}
	rows = append(rows, header("## 2. Raw zone (Firehose, validator)"), []awscloudwatch.IWidget{
		graph("Firehose delivery to S3",
			[]awscloudwatch.IMetric{label(fh.Metric(jsii.String("DeliveryToS3.Records"), stat(five, "Sum")), "records delivered")},
			[]awscloudwatch.IMetric{
				label(fh.Metric(jsii.String("DeliveryToS3.Success"), stat(five, "Average")), "delivery success"),
				label(fh.Metric(jsii.String("ExecuteProcessing.Success"), stat(five, "Average")), "processing success"),
			}),
		awscloudwatch.NewGraphWidget(freshness),
		graph("Validator: accepted / rejected records",
			[]awscloudwatch.IMetric{label(p.Validator.MetricRecordsAccepted(stat(five, "Sum")), "accepted")},
			[]awscloudwatch.IMetric{label(p.Validator.MetricRecordsRejected(stat(five, "Sum")), "rejected")}),
	})

	// 3. Processing.
	var processing awscloudwatch.IWidget
	if len(p.JobRuns) > 0 {
		runs := labelled(p.JobRuns)
		processing = awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Glue job runs and failures (per hour)"), Width: jsii.Number(12), Height: jsii.Number(6), Left: &runs,
		})
	} else {
		processing = awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{
			Markdown: jsii.String("No Glue jobs are deployed by the processing stack yet."), Width: jsii.Number(12), Height: jsii.Number(6),
		})
	}
	rows = append(rows, header("## 3. Processing (Glue)"), []awscloudwatch.IWidget{processing})

	// 4. Curated freshness.
	arrivals := labelled(p.Arrivals)
	rows = append(rows, header("## 4. Curated freshness (new objects per hour; an alarm fires after freshness_hours without one)"), []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Curated partitions written"), Width: jsii.Number(24), Height: jsii.Number(6), Left: &arrivals,
		}),
	})

	// 5. Queries.
	athena := func(name, statistic string, period awscdk.Duration) awscloudwatch.Metric {
		return p.WorkGroup.Metric(name, stat(period, statistic))
	}
	scanned := &awscloudwatch.GraphWidgetProps{
		Title: jsii.String("Bytes scanned per day"), Width: jsii.Number(12), Height: jsii.Number(6),
		Left: &[]awscloudwatch.IMetric{label(athena("ProcessedBytes", "Sum", awscdk.Duration_Days(jsii.Number(1))), "bytes scanned")},
	}
	if p.DailyScanLimitBytes > 0 {
		scanned.LeftAnnotations = &[]*awscloudwatch.HorizontalAnnotation{{Value: jsii.Number(p.DailyScanLimitBytes), Label: jsii.String(p.DailyScanLimitLabel)}}
	}
	rows = append(rows, header("## 5. Queries (Athena)"), []awscloudwatch.IWidget{
		awscloudwatch.NewGraphWidget(scanned),
		graph("Query time (ms)", []awscloudwatch.IMetric{
			label(athena("TotalExecutionTime", "p90", five), "total p90"),
			label(athena("QueryQueueTime", "p90", five), "queued p90"),
		}, nil),
	})

	// 6. Every alarm.
	if len(p.Alarms) > 0 {
		alarms := make([]interfacesawscloudwatch.IAlarmRef, 0, len(p.Alarms))
		for _, a := range p.Alarms {
			alarms = append(alarms, a)
		}
		rows = append(rows, []awscloudwatch.IWidget{awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String("Alarms"), Alarms: &alarms, Width: jsii.Number(24), Height: jsii.Number(4),
			SortBy: awscloudwatch.AlarmStatusWidgetSortBy_STATE_UPDATED_TIMESTAMP,
		})})
	} else {
		rows = append(rows, header(p.NoAlarmsText))
	}

	widgets := make([]*[]awscloudwatch.IWidget, 0, len(rows))
	for i := range rows {
		widgets = append(widgets, &rows[i])
	}
	d := awscloudwatch.NewDashboard(scope, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   jsii.String(p.Name),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(7)),
		Widgets:         &widgets,
	})
	// cfn-lint's resource schema has no Tags on dashboards and rejects the
	// stack-wide tags; a dashboard holds no data to classify or bill.
	d.Node().DefaultChild().(awscdk.CfnResource).AddPropertyDeletionOverride(jsii.String("Tags"))
	return d
}

func stat(period awscdk.Duration, statistic string) *awscloudwatch.MetricOptions {
	return &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String(statistic)}
}

func label(m awscloudwatch.Metric, l string) awscloudwatch.IMetric {
	return m.With(&awscloudwatch.MetricOptions{Label: jsii.String(l)})
}

func labelled(series []Series) []awscloudwatch.IMetric {
	out := make([]awscloudwatch.IMetric, 0, len(series))
	for _, s := range series {
		out = append(out, label(s.Metric, s.Label))
	}
	return out
}

// graph is an 8x6 graph with optional right-axis metrics.
func graph(title string, left []awscloudwatch.IMetric, right []awscloudwatch.IMetric) awscloudwatch.IWidget {
	p := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(8), Height: jsii.Number(6), Left: &left}
	if len(right) > 0 {
		p.Right = &right
	}
	return awscloudwatch.NewGraphWidget(p)
}

func header(md string) []awscloudwatch.IWidget {
	return []awscloudwatch.IWidget{awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Markdown: jsii.String(md), Width: jsii.Number(24), Height: jsii.Number(1)})}
}
