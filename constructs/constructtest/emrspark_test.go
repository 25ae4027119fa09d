package constructtest_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/emrspark"
)

// emrsparkBuilt is what the emrspark tests read.
type emrsparkBuilt struct {
	tpl       map[string]any
	nagErrors []string
}

// emrsparkFixture synthesizes the emrspark stack once, on first use.
var emrsparkFixture = sync.OnceValue(func() (b emrsparkBuilt) {
	stack := constructtest.NewStack("Emr")
	vpc := constructtest.IsolatedVpc(stack)
	sg := awsec2.NewSecurityGroup(stack, jsii.String("Sg"), &awsec2.SecurityGroupProps{Vpc: vpc})
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	bucket := func(id string) awss3.IBucket {
		return awss3.NewBucket(stack, jsii.String(id), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	}
	raw, out := bucket("Raw"), bucket("Out")
	app := emrspark.New(stack, emrspark.Props{Name: "t-spark", ReleaseLabel: "emr-7.5.0", Subnets: *vpc.IsolatedSubnets(), SecurityGroup: sg,
		Logs: out, Key: key, Read: []awss3.IBucket{raw}, Write: []awss3.IBucket{out}})
	compliance.GrantWildcards(app.JobRole, "test: the role reads and writes its test buckets.", "Raw", "Out")
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Vpc/", "/Sg/", "/Raw/", "/Out/")
	return b
})

// Starts on demand, stops when idle, capped, in the given subnets, logs
// encrypted; the runtime role trusts EMR Serverless of this account only.
func TestApplicationAndRole(t *testing.T) {
	tpl := emrsparkFixture().tpl
	a, _ := json.Marshal(constructtest.OfType(tpl, "AWS::EMRServerless::Application")[0])
	for _, want := range []string{`"AutoStartConfiguration":{"Enabled":true}`, `"IdleTimeoutMinutes":15`, `"Cpu":"16 vCPU"`,
		`"Memory":"64 GB"`, `"SubnetIds":[`, `"EncryptionKeyArn":`, `/_emr/logs/"`, `"ReleaseLabel":"emr-7.5.0"`} {
		if !strings.Contains(string(a), want) {
			t.Errorf("application lacks %s: %s", want, a)
		}
	}
	var trust []byte
	for _, r := range constructtest.OfType(tpl, "AWS::IAM::Role") {
		if b, _ := json.Marshal(r["AssumeRolePolicyDocument"]); strings.Contains(string(b), "emr-serverless") {
			trust = b
		}
	}
	if !strings.Contains(string(trust), `"aws:SourceAccount"`) {
		t.Errorf("job role trust = %s, want EMR Serverless of this account", trust)
	}
}

func TestEMRSparkPassesCdkNag(t *testing.T) {
	for _, e := range emrsparkFixture().nagErrors {
		t.Error(e)
	}
}
