package constructtest_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/gluejob"
)

// gluejobBuilt is what the gluejob tests read.
type gluejobBuilt struct {
	tpl       map[string]any
	nagErrors []string
	panics    map[string]string
}

// gluejobCatch records in panics, under name, what f panics with.
func gluejobCatch(panics map[string]string, name string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			panics[name] = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(
				strings.TrimPrefix(strings.TrimPrefix(toString(r), "runtime error: "), "panic: "), "\n", " "), "\t", " "))
		}
	}()
	f()
}

func toString(v any) string {
	if e, ok := v.(error); ok {
		return e.Error()
	}
	return v.(string)
}

// gluejobFixture synthesizes the gluejob stack once, on first use.
var gluejobFixture = sync.OnceValue(func() (b gluejobBuilt) {
	b.panics = map[string]string{}
	stack := constructtest.NewStack("Jobs")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	sec := gluejob.NewSecurityConfiguration(stack, "Sec", "t-glue", key)
	vpc := constructtest.IsolatedVpc(stack)
	sg := awsec2.NewSecurityGroup(stack, jsii.String("Sg"), &awsec2.SecurityGroupProps{Vpc: vpc})
	conn := gluejob.NewConnection(stack, "Conn", "t-jobs", "test network", (*vpc.IsolatedSubnets())[0], sg)
	awscdk.Tags_Of(stack).Add(jsii.String("owner"), jsii.String("t"), nil)
	// Any file will do as the script (the tests read the template only);
	// the path is relative to this test's directory.
	script := awsglue.Code_FromAsset(jsii.String("../gluejob/gluejob.go"), nil)
	role := gluejob.NewRole(stack, "Role", "test job")
	gluejob.AcknowledgeJobRole(role, "test")
	base := gluejob.Props{Name: "t-job", Script: script, Role: role, SecurityConfiguration: sec, Connection: conn,
		IcebergWarehouse: "s3://warehouse/", Arguments: map[string]string{"table": "orders"},
		TimeoutMinutes: 30, MaxRetries: 1, NotifyDelayAfter: awscdk.Duration_Minutes(jsii.Number(24))}
	gluejob.New(stack, "Job", base)
	flex := base
	flex.Name, flex.Flex, flex.IcebergWarehouse, flex.WorkerType, flex.Workers = "t-flex", true, "", "G.2X", 4
	gluejob.New(stack, "FlexJob", flex) // same role: the network statements once

	gluejobCatch(b.panics, "shared argument", func() {
		bad := base
		bad.Arguments = map[string]string{"conf": "spark.x=1"}
		gluejob.New(stack, "Bad", bad)
	})
	gluejobCatch(b.panics, "glue version", func() {
		bad := base
		bad.Name, bad.GlueVersion = "t-v", "4.0"
		gluejob.New(stack, "BadVersion", bad)
	})
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Key/", "/Vpc/", "/Sg/")
	return b
})

func job(t *testing.T, name string) map[string]any {
	t.Helper()
	for _, j := range constructtest.OfType(gluejobFixture().tpl, "AWS::Glue::Job") {
		if j["Name"] == name {
			return j
		}
	}
	t.Fatalf("no job %s", name)
	return nil
}

// Every job: bookmarks, one run at a time, the given timeout and retries
// (never Glue's 48 hours), the security configuration, the connection,
// metrics and continuous logs; its own argument next to the shared ones.
func TestSharedSettings(t *testing.T) {
	j := job(t, "t-job")
	args := j["DefaultArguments"].(map[string]any)
	for k, want := range map[string]string{"--job-bookmark-option": "job-bookmark-enable", "--enable-auto-scaling": "true",
		"--enable-metrics": "", "--enable-continuous-cloudwatch-log": "true", "--table": "orders", "--datalake-formats": "iceberg"} {
		if got, ok := args[k]; !ok || (want != "" && got != want) {
			t.Errorf("%s = %v, want %q", k, got, want)
		}
	}
	if conf, _ := args["--conf"].(string); !strings.Contains(conf, "spark.sql.catalog.glue_catalog.warehouse=s3://warehouse/") ||
		!strings.Contains(conf, " --conf spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog") {
		t.Errorf("--conf = %q", conf)
	}
	if j["Timeout"] != float64(30) || j["MaxRetries"] != float64(1) || j["GlueVersion"] != "5.0" || j["WorkerType"] != "G.1X" ||
		j["NumberOfWorkers"] != float64(2) || j["SecurityConfiguration"] == nil {
		t.Errorf("job = %v", constructtest.JSON(j))
	}
	if cp := j["ExecutionProperty"].(map[string]any); cp["MaxConcurrentRuns"] != float64(1) {
		t.Errorf("ExecutionProperty = %v", cp)
	}
	if np := j["NotificationProperty"].(map[string]any); np["NotifyDelayAfter"] != float64(24) {
		t.Errorf("NotificationProperty = %v", np)
	}
	if c := constructtest.JSON(j["Connections"]); !strings.Contains(c, "Conn") {
		t.Errorf("Connections = %s", c)
	}
}

// Flex is a different job class; without a warehouse no Iceberg settings.
func TestFlexWithoutIceberg(t *testing.T) {
	j := job(t, "t-flex")
	args := j["DefaultArguments"].(map[string]any)
	if j["ExecutionClass"] != "FLEX" || j["WorkerType"] != "G.2X" || j["NumberOfWorkers"] != float64(4) {
		t.Errorf("flex job = %s", constructtest.JSON(j))
	}
	if _, ok := args["--datalake-formats"]; ok {
		t.Errorf("a job without IcebergWarehouse loads Iceberg: %v", args)
	}
	if args["--job-bookmark-option"] != "job-bookmark-enable" {
		t.Errorf("flex job lost the shared settings: %v", args)
	}
}

// Misuse names the job, the field and what is allowed.
func TestGlueJobMisuseIsNamed(t *testing.T) {
	panics := gluejobFixture().panics
	for name, want := range map[string]string{
		"shared argument": "gluejob t-job: argument --conf is a shared setting of every job",
		"glue version":    `GlueVersion "4.0" is not one of 5.0, 5.1, 6.0`,
	} {
		if !strings.Contains(panics[name], want) {
			t.Errorf("%s: panic %q, want %q", name, panics[name], want)
		}
	}
}

// The role writes only /aws-glue/ log groups; the network statements are
// added once for a role two jobs share.
func TestRoleLogsAndNetworkOnce(t *testing.T) {
	tpl := gluejobFixture().tpl
	pol := constructtest.JSON(constructtest.OfType(tpl, "AWS::IAM::Policy"))
	if !strings.Contains(pol, ":log-group:/aws-glue/*") {
		t.Errorf("role cannot write its run logs: %s", pol)
	}
	if n := strings.Count(pol, "ec2:CreateNetworkInterface"); n != 1 {
		t.Errorf("network statement %d times, want 1", n)
	}
	if strings.Contains(pol, `"s3:*"`) || strings.Contains(pol, `"glue:*"`) {
		t.Errorf("role has a service wildcard: %s", pol)
	}
}

// The security configuration encrypts logs and S3 writes with the key and
// bookmarks client-side; the connection is NETWORK in the subnet with the
// group, and carries no Tags (AWS::Glue::Connection has none: cfn-lint
// E3002) although the stack is tagged.
func TestSecurityConfigurationAndConnection(t *testing.T) {
	tpl := gluejobFixture().tpl
	enc := constructtest.JSON(constructtest.OfType(tpl, "AWS::Glue::SecurityConfiguration")[0]["EncryptionConfiguration"])
	for _, want := range []string{`"CloudWatchEncryptionMode":"SSE-KMS"`, `"JobBookmarksEncryptionMode":"CSE-KMS"`, `"S3EncryptionMode":"SSE-KMS"`} {
		if !strings.Contains(enc, want) {
			t.Errorf("encryption lacks %s: %s", want, enc)
		}
	}
	c := constructtest.OfType(tpl, "AWS::Glue::Connection")[0]
	in := constructtest.JSON(c["ConnectionInput"])
	if !strings.Contains(in, `"ConnectionType":"NETWORK"`) || !strings.Contains(in, `"SubnetId"`) || !strings.Contains(in, `"Name":"t-jobs"`) {
		t.Errorf("connection = %s", in)
	}
	if _, tagged := c["Tags"]; tagged {
		t.Errorf("connection has Tags: %v", c["Tags"])
	}
}

func TestGlueJobPassesCdkNag(t *testing.T) {
	for _, e := range gluejobFixture().nagErrors {
		t.Error(e)
	}
}
