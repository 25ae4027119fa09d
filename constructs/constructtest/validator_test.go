package constructtest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/validator"
	"github.com/example/datalake/dataset"
)

// validatorBuilt is what the validator tests read.
type validatorBuilt struct {
	plain, reserved map[string]any
	nagErrors       []string
}

// validatorFixture synthesizes the two validator stacks once, on first use.
var validatorFixture = sync.OnceValue(func() (b validatorBuilt) {
	b.plain, b.nagErrors = validatorBuild(0)
	b.reserved, _ = validatorBuild(7)
	return b
})

func validatorBuild(concurrency float64) (map[string]any, []string) {
	stack := constructtest.NewStack("Val")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	root, _ := filepath.Abs("../..")
	v := validator.New(stack, "Validator", validator.Props{
		ModuleDir: root, Package: "./functions/validator", Environment: "t-dev", Key: key,
		LogRetention: awslogs.RetentionDays_ONE_WEEK, ReservedConcurrency: concurrency,
		Datasets: []dataset.Spec{{Name: "a", EventTimeField: "t", Key: []string{"id"}, Columns: []dataset.Column{
			{Name: "id", Type: dataset.String, Required: true}, {Name: "t", Type: dataset.Timestamp, Required: true}}}},
	})
	// A metric only reaches the template through an alarm.
	awscloudwatch.NewAlarm(stack, jsii.String("Rejected"), &awscloudwatch.AlarmProps{
		Metric:    v.MetricRecordsRejected(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5))}),
		Threshold: jsii.Number(0), EvaluationPeriods: jsii.Number(1),
	})
	return constructtest.Synth(stack, "/Rejected/")
}

func TestFunctionEnvironmentAndNoReservationByDefault(t *testing.T) {
	plain, reserved := validatorFixture().plain, validatorFixture().reserved
	fns := constructtest.OfType(plain, "AWS::Lambda::Function")
	if len(fns) != 1 {
		t.Fatalf("%d functions", len(fns))
	}
	env, _ := json.Marshal(fns[0]["Environment"])
	for _, want := range []string{`"METRICS_NAMESPACE":"` + validator.MetricsNamespace + `"`, `"ENVIRONMENT":"t-dev"`} {
		if !strings.Contains(string(env), want) {
			t.Errorf("environment %s lacks %s", env, want)
		}
	}
	if _, has := fns[0]["ReservedConcurrentExecutions"]; has {
		t.Error("a reservation by default")
	}
	if got := constructtest.OfType(reserved, "AWS::Lambda::Function")[0]["ReservedConcurrentExecutions"]; got != 7.0 {
		t.Errorf("reservation = %v, want 7", got)
	}
}

// The metric the alarms watch is the one the function publishes: its
// namespace and the Environment dimension it was given.
func TestMetricRecordsRejectedNamesWhatTheFunctionPublishes(t *testing.T) {
	plain := validatorFixture().plain
	a := constructtest.OfType(plain, "AWS::CloudWatch::Alarm")[0]
	dims, _ := json.Marshal(a["Dimensions"])
	if a["Namespace"] != validator.MetricsNamespace || a["MetricName"] != "RecordsRejected" || a["Statistic"] != "Sum" ||
		string(dims) != `[{"Name":"Environment","Value":"t-dev"}]` {
		t.Errorf("alarm metric = %v %v %v %s", a["Namespace"], a["MetricName"], a["Statistic"], dims)
	}
	src, err := os.ReadFile("../../functions/validator/handler.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"RecordsRejected", "RecordsAccepted", "Environment"} {
		if !strings.Contains(string(src), `"`+name+`"`) {
			t.Errorf("functions/validator/handler.go does not publish %s", name)
		}
	}
}

func TestValidatorPassesCdkNag(t *testing.T) {
	for _, e := range validatorFixture().nagErrors {
		t.Error(e)
	}
}
