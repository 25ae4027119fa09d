package constructtest_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/dashboard"
	"github.com/example/datalake/constructs/validator"
	"github.com/example/datalake/constructs/workgroup"
	"github.com/example/datalake/dataset"
)

// The datasets whose arrivals the full dashboard graphs.
var datasets = []string{"orders", "clickstream"}

const freshnessSeconds = 777

// dashboardBuilt is what the dashboard tests read.
type dashboardBuilt struct {
	tpl       map[string]any
	nagErrors []string
}

// dashboardFixture synthesizes the dashboard stack once, on first use.
var dashboardFixture = sync.OnceValue(func() (b dashboardBuilt) {
	stack := constructtest.NewStack("Dash")
	awscdk.Tags_Of(stack).Add(jsii.String("team"), jsii.String("data"), nil)
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	stream := awskinesis.NewStream(stack, jsii.String("Stream"), &awskinesis.StreamProps{EncryptionKey: key})
	fh := awskinesisfirehose.DeliveryStream_FromDeliveryStreamName(stack, jsii.String("Fh"), jsii.String("t-fh"))
	root, _ := filepath.Abs("../..")
	v := validator.New(stack, "Validator", validator.Props{ModuleDir: root, Package: "./functions/validator", Environment: "t",
		Key: key, LogRetention: awslogs.RetentionDays_ONE_WEEK, Datasets: []dataset.Spec{{Name: "a", Key: []string{"id"},
			Columns: []dataset.Column{{Name: "id", Type: dataset.String, Required: true}}}}})
	results := awss3.NewBucket(stack, jsii.String("Results"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	wg := workgroup.New(stack, "WorkGroup", workgroup.Props{Name: "t-wg", Results: results, Key: key})
	api := awsapigateway.NewRestApi(stack, jsii.String("Api"), nil)
	api.Root().AddMethod(jsii.String("GET"), nil, nil)
	count := func(name string) awscloudwatch.Metric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String("T"), MetricName: jsii.String(name)})
	}
	var arrivals []dashboard.Series
	for _, d := range datasets {
		arrivals = append(arrivals, dashboard.Series{Label: d + "_daily objects", Metric: count(d)})
	}
	alarm := awscloudwatch.NewAlarm(stack, jsii.String("A"), &awscloudwatch.AlarmProps{Metric: count("x"), Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1)})
	dashboard.New(stack, dashboard.Props{Name: "t-full", Title: "t-full", EventsLogGroupName: "/t/events", Api: api, Stream: stream, DeliveryStream: fh,
		Validator: v, FreshnessAlarmSeconds: freshnessSeconds, JobRuns: []dashboard.Series{{Label: "job runs finished", Metric: count("runs")}},
		Arrivals: arrivals, WorkGroup: wg, DailyScanLimitBytes: 5e9, Alarms: []awscloudwatch.IAlarm{alarm}})
	dashboard.New(constructs.NewConstruct(stack, jsii.String("Bare")), dashboard.Props{Name: "t-bare", Title: "t-bare", EventsLogGroupName: "/t/events",
		Stream: stream, DeliveryStream: fh, Validator: v, WorkGroup: wg})
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Api/", "/Results/", "/Validator/", "/Stream/", "/A/")
	return b
})

// dashboardBodies returns each dashboard's body (tokens and all) as JSON text, by name.
func dashboardBodies(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, d := range constructtest.OfType(dashboardFixture().tpl, "AWS::CloudWatch::Dashboard") {
		if _, tagged := d["Tags"]; tagged {
			t.Errorf("dashboard %v has Tags (cfn-lint rejects them)", d["DashboardName"])
		}
		b, _ := json.Marshal(d["DashboardBody"])
		out[d["DashboardName"].(string)] = string(b)
	}
	if len(out) != 2 {
		t.Fatalf("dashboards = %v", out)
	}
	return out
}

// Rows follow the record: an API row only with an API, one arrival line
// per dataset, the alarm thresholds marked, and the alarm states last.
func TestFullDashboard(t *testing.T) {
	b := dashboardBodies(t)["t-full"]
	wants := []string{"API requests and 5xx", "job runs finished", `"value\":777`, "Alarms", "/t/events"}
	for _, d := range datasets {
		wants = append(wants, d+"_daily objects")
	}
	for _, w := range wants {
		if !strings.Contains(b, w) {
			t.Errorf("full dashboard lacks %s", w)
		}
	}
	prev := -1
	for _, row := range []string{"1. Ingestion", "2. Raw zone", "3. Processing", "4. Curated freshness", "5. Queries", `"Alarms`} {
		i := strings.Index(b, row)
		if i <= prev {
			t.Errorf("row %q at %d, want after %d", row, i, prev)
		}
		prev = i
	}
}

// Without an API, jobs or alarms the page says so instead of empty graphs.
func TestBareDashboardSaysWhatIsMissing(t *testing.T) {
	b := dashboardBodies(t)["t-bare"]
	for _, w := range []string{"No Glue jobs are deployed", "No alarms in this environment."} {
		if !strings.Contains(b, w) {
			t.Errorf("bare dashboard lacks %q", w)
		}
	}
	for _, w := range []string{"API requests", `"annotations`} {
		if strings.Contains(b, w) {
			t.Errorf("bare dashboard has %q", w)
		}
	}
}

func TestDashboardPassesCdkNag(t *testing.T) {
	for _, e := range dashboardFixture().nagErrors {
		t.Error(e)
	}
}
