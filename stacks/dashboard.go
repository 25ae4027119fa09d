package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/dashboard"
)

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
