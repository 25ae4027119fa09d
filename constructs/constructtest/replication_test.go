package constructtest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/replication"
)

// The two targets, each in a scope of its own in one stack (one synthesis).
var kinesisProps = replication.Props{Prefix: "t-k", SourceSecretName: "orders-db", SourceEngine: "postgres",
	SourceDatabase: "shop", SourceSchema: "public", Tables: []string{"orders", "customers"}, Target: "kinesis",
	TaskSettings: `{"Logging":{"EnableLogging":true}}`}
var s3Props = replication.Props{Prefix: "t-s", SourceSecretName: "crm-db", SourceEngine: "mysql",
	SourceDatabase: "crm", SourceSchema: "crm", Tables: []string{"accounts"}, Target: "s3", MultiAZ: true,
	InstanceClass: "dms.r5.large", TaskSettings: `{}`}

// replicationBuilt is what the replication tests read: the template and
// the two targets' props as the stack was built with them.
type replicationBuilt struct {
	tpl         map[string]any
	nagErrors   []string
	kinesis, s3 replication.Props
}

// replicationFixture synthesizes the replication stack once, on first use.
var replicationFixture = sync.OnceValue(func() (b replicationBuilt) {
	stack := constructtest.NewStack("Dms")
	vpc := constructtest.IsolatedVpc(stack)
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	stream := awskinesis.NewStream(stack, jsii.String("Stream"), &awskinesis.StreamProps{EncryptionKey: key})
	raw := awss3.NewBucket(stack, jsii.String("Raw"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	b.kinesis, b.s3 = kinesisProps, s3Props
	b.kinesis.Vpc, b.kinesis.Key, b.kinesis.Stream = vpc, key, stream
	b.s3.Vpc, b.s3.Key, b.s3.Raw = vpc, key, raw
	replication.New(constructs.NewConstruct(stack, jsii.String("K")), b.kinesis)
	replication.New(constructs.NewConstruct(stack, jsii.String("S")), b.s3)
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Vpc/", "/Key/", "/Stream/", "/Raw/")
	return b
})

// replicationOf returns the one resource of a type whose JSON contains marker.
func replicationOf(t *testing.T, typ, marker string) (map[string]any, string) {
	t.Helper()
	for _, r := range constructtest.OfType(replicationFixture().tpl, typ) {
		if b, _ := json.Marshal(r); strings.Contains(string(b), marker) {
			return r, string(b)
		}
	}
	t.Fatalf("no %s containing %s", typ, marker)
	return nil, ""
}

// The instance is private, encrypted with the lake key, sized by Props
// (defaults for the kinesis one), and its group reaches the source engine's
// port and HTTPS only.
func TestInstanceIsPrivateAndSized(t *testing.T) {
	f := replicationFixture()
	for _, c := range []struct {
		p     replication.Props
		class string
		gb    float64
		port  float64
	}{{f.kinesis, "dms.t3.medium", 50, 5432}, {f.s3, "dms.r5.large", 50, 3306}} {
		inst, _ := replicationOf(t, "AWS::DMS::ReplicationInstance", `"`+c.p.Prefix+`-dms"`)
		if inst["PubliclyAccessible"] != false || inst["MultiAZ"] != c.p.MultiAZ || inst["ReplicationInstanceClass"] != c.class ||
			inst["AllocatedStorage"] != c.gb || !strings.Contains(fmt.Sprint(inst["KmsKeyId"]), "Key") {
			t.Errorf("%s instance = %v", c.p.Prefix, inst)
		}
		sg, _ := replicationOf(t, "AWS::EC2::SecurityGroup", "DMS replication instance of "+c.p.Prefix+":")
		var ports []float64
		for _, e := range sg["SecurityGroupEgress"].([]any) {
			ports = append(ports, e.(map[string]any)["FromPort"].(float64))
		}
		if fmt.Sprint(ports) != fmt.Sprint([]float64{c.port, 443}) {
			t.Errorf("%s egress ports = %v, want [%v 443]", c.p.Prefix, ports, c.port)
		}
	}
}

// One selection rule per table of Props.Tables in the task, which runs full
// load then CDC with the given settings, and per table the column carrying
// DMS's change sequence (the order of one transaction's changes).
func TestTaskMapsEveryTable(t *testing.T) {
	f := replicationFixture()
	for _, p := range []replication.Props{f.kinesis, f.s3} {
		task, _ := replicationOf(t, "AWS::DMS::ReplicationTask", `"`+p.Prefix+`-dms"`)
		var m struct {
			Rules []struct {
				Type       string            `json:"rule-type"`
				ID         string            `json:"rule-id"`
				Target     string            `json:"rule-target"`
				Locator    map[string]string `json:"object-locator"`
				Action     string            `json:"rule-action"`
				Value      string            `json:"value"`
				Expression string            `json:"expression"`
			} `json:"rules"`
		}
		if err := json.Unmarshal([]byte(task["TableMappings"].(string)), &m); err != nil {
			t.Fatal(err)
		}
		var got, seq []string
		ids := map[string]bool{}
		for _, r := range m.Rules {
			if ids[r.ID] {
				t.Errorf("%s: rule-id %s twice", p.Prefix, r.ID)
			}
			ids[r.ID] = true
			if r.Type == "selection" && r.Action == "include" && r.Locator["schema-name"] == p.SourceSchema {
				got = append(got, r.Locator["table-name"])
			}
			if r.Type == "transformation" && r.Target == "column" && r.Action == "add-column" && r.Value == replication.ChangeSeqColumn &&
				r.Expression == "$AR_H_CHANGE_SEQ" && r.Locator["schema-name"] == p.SourceSchema {
				seq = append(seq, r.Locator["table-name"])
			}
		}
		if fmt.Sprint(seq) != fmt.Sprint(p.Tables) {
			t.Errorf("%s: change-sequence column on %v, want every table %v", p.Prefix, seq, p.Tables)
		}
		if fmt.Sprint(got) != fmt.Sprint(p.Tables) || task["MigrationType"] != "full-load-and-cdc" || task["ReplicationTaskSettings"] != p.TaskSettings {
			t.Errorf("%s task = %v, want tables %v", p.Prefix, task, p.Tables)
		}
	}
}

// The source endpoint reads its connection from the named secret over TLS,
// through a role the regional DMS principal of this account assumes.
func TestSourceFromSecretOverTLS(t *testing.T) {
	ep, b := replicationOf(t, "AWS::DMS::Endpoint", `"t-k-dms-source"`)
	if ep["SslMode"] != "require" || !strings.Contains(b, `"PostgreSqlSettings":{"SecretsManagerAccessRoleArn"`) ||
		!strings.Contains(b, `"SecretsManagerSecretId":"orders-db"`) {
		t.Errorf("postgres source = %s", b)
	}
	if _, b := replicationOf(t, "AWS::DMS::Endpoint", `"t-s-dms-source"`); !strings.Contains(b, `"MySqlSettings":`) {
		t.Errorf("mysql source = %s", b)
	}
	_, trust := replicationOf(t, "AWS::IAM::Role", "reads the source connection secret orders-db")
	if !strings.Contains(trust, `"Service":"dms.us-west-2.amazonaws.com"`) || !strings.Contains(trust, `"aws:SourceAccount"`) {
		t.Errorf("secret role trust = %s", trust)
	}
}

// The s3 target writes gzip CSV with column names under LandingFolder with
// the lake key, and its role may write there only; the kinesis target
// spreads rows over shards.
func TestTargets(t *testing.T) {
	tpl := replicationFixture().tpl
	_, s3 := replicationOf(t, "AWS::DMS::Endpoint", `"t-s-dms-target"`)
	// CDC batched: one file per table and hour (CdcBatchSeconds' default), not one a minute.
	for _, want := range []string{`"BucketFolder":"` + replication.LandingFolder + `"`, `"EncryptionMode":"SSE_KMS"`, `"AddColumnName":true`, `"CompressionType":"GZIP"`, `"CdcMaxBatchInterval":3600`} {
		if !strings.Contains(s3, want) {
			t.Errorf("s3 target lacks %s: %s", want, s3)
		}
	}
	for _, pol := range constructtest.OfType(tpl, "AWS::IAM::Policy") {
		b, _ := json.Marshal(pol)
		if strings.Contains(string(b), "TargetBucketRole") && strings.Contains(string(b), "s3:PutObject") &&
			!strings.Contains(string(b), `/`+replication.LandingFolder+`/*"`) {
			t.Errorf("bucket role may write outside %s/: %s", replication.LandingFolder, b)
		}
	}
	if _, k := replicationOf(t, "AWS::DMS::Endpoint", `"t-k-dms-target"`); !strings.Contains(k, `"PartitionIncludeSchemaTable":true`) || !strings.Contains(k, `"MessageFormat":"json"`) {
		t.Errorf("kinesis target = %s", k)
	}
}

func TestRejectsUnknownEngine(t *testing.T) {
	p := replicationFixture().kinesis
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), `"db2"`) {
			t.Errorf("panic = %v, want one naming the engine", r)
		}
	}()
	p.SourceEngine = "db2"
	replication.New(constructs.NewConstruct(constructtest.NewStack("Bad"), jsii.String("B")), p)
}

func TestReplicationPassesCdkNag(t *testing.T) {
	for _, e := range replicationFixture().nagErrors {
		t.Error(e)
	}
}
