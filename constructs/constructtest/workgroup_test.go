package constructtest_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/workgroup"
)

// workgroupBuilt is what the workgroup tests read.
type workgroupBuilt struct {
	tpl       map[string]any
	nagErrors []string
}

// workgroupFixture synthesizes the workgroup stack once, on first use.
var workgroupFixture = sync.OnceValue(func() (b workgroupBuilt) {
	stack := constructtest.NewStack("Wg")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	results := awss3.NewBucket(stack, jsii.String("Results"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	wg := workgroup.New(stack, "WorkGroup", workgroup.Props{Name: "t-wg", Results: results, Key: key, BytesScannedCutoffMB: 100})
	role := awsiam.NewRole(stack, jsii.String("Analyst"), &awsiam.RoleProps{AssumedBy: awsiam.NewAccountRootPrincipal()})
	wg.GrantQuery(role)
	wg.SaveQuery(stack, "Volume-orders", "orders: daily volume", "rows per day", "t_analytics", "SELECT dt, count(*) FROM orders_daily GROUP BY dt")
	awscloudwatch.NewAlarm(stack, jsii.String("Scanned"), &awscloudwatch.AlarmProps{
		Metric:    wg.Metric("ProcessedBytes", &awscloudwatch.MetricOptions{Period: awscdk.Duration_Days(jsii.Number(1)), Statistic: jsii.String("Sum")}),
		Threshold: jsii.Number(1), EvaluationPeriods: jsii.Number(1),
	})
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Results/", "/Analyst/")
	return b
})

// Enforced, engine 3, SSE-KMS results under results/, the cutoff in bytes,
// metrics on: what makes every query in the workgroup safe and measured.
func TestEnforcedEncryptedLimited(t *testing.T) {
	tpl := workgroupFixture().tpl
	c := constructtest.OfType(tpl, "AWS::Athena::WorkGroup")[0]["WorkGroupConfiguration"].(map[string]any)
	b, _ := json.Marshal(c)
	for _, want := range []string{`"EnforceWorkGroupConfiguration":true`, `"PublishCloudWatchMetricsEnabled":true`,
		`"BytesScannedCutoffPerQuery":104857600`, `"SelectedEngineVersion":"Athena engine version 3"`, `"EncryptionOption":"SSE_KMS"`, `/results/"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("configuration lacks %s: %s", want, b)
		}
	}
}

// The grant names this workgroup (not *), and the metric its name.
func TestGrantAndMetricNameTheWorkgroup(t *testing.T) {
	tpl := workgroupFixture().tpl
	pol, _ := json.Marshal(constructtest.OfType(tpl, "AWS::IAM::Policy"))
	if !strings.Contains(string(pol), ":workgroup/t-wg") || !strings.Contains(string(pol), "athena:StartQueryExecution") {
		t.Errorf("grant = %s", pol)
	}
	dims, _ := json.Marshal(constructtest.OfType(tpl, "AWS::CloudWatch::Alarm")[0]["Dimensions"])
	if !strings.Contains(string(dims), `"Name":"WorkGroup","Value":{"Ref":"WorkGroup"}`) {
		t.Errorf("metric dimensions = %s", dims)
	}
}

// A saved query runs in its database in this workgroup.
func TestSavedQueryInTheWorkgroup(t *testing.T) {
	tpl := workgroupFixture().tpl
	q := constructtest.OfType(tpl, "AWS::Athena::NamedQuery")
	if len(q) != 1 || q[0]["Database"] != "t_analytics" || q[0]["Name"] != "orders: daily volume" ||
		constructtest.JSON(q[0]["WorkGroup"]) != `{"Ref":"WorkGroup"}` || !strings.HasPrefix(q[0]["QueryString"].(string), "SELECT dt") {
		t.Errorf("named queries = %v", q)
	}
}

func TestWorkgroupPassesCdkNag(t *testing.T) {
	for _, e := range workgroupFixture().nagErrors {
		t.Error(e)
	}
}
