package constructtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/audit"
	"github.com/example/datalake/constructs/constructtest"
)

const lockDays = 400

var zoneIDs = []string{"Raw", "Curated"}

// auditBuilt is what the audit tests read.
type auditBuilt struct {
	tpl             map[string]any
	nagErrors       []string
	full, rulesOnly *audit.Audit
}

// auditFixture synthesizes the audit stack once, on first use.
var auditFixture = sync.OnceValue(func() (b auditBuilt) {
	stack := constructtest.NewStack("Audit")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	logs := awss3.NewBucket(stack, jsii.String("Logs"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	var zones []audit.Zone
	for _, id := range zoneIDs {
		zones = append(zones, audit.Zone{ID: id, Bucket: awss3.NewBucket(stack, jsii.String(id), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})})
	}
	b.full = audit.New(stack, audit.Props{Prefix: "t-full", Key: key, AccessLogs: logs, Trail: true, Zones: zones,
		ConfigRules: true, ConfigRecorder: true,
		ObjectLock: awss3.ObjectLockRetention_Governance(awscdk.Duration_Days(jsii.Number(lockDays)))})
	// Rules only (an account whose recorder exists): no bucket, no trail.
	b.rulesOnly = audit.New(constructs.NewConstruct(stack, jsii.String("R")), audit.Props{Prefix: "t-rules", Key: key, Zones: zones, ConfigRules: true})
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Key/", "/Logs/", "/Raw/", "/Curated/")
	return b
})

// The bucket is versioned, encrypted with the key, write-once for the
// given period, expires old versions after the default 90 days, and is
// the only one with Object Lock (the rules-only audit made none).
func TestBucket(t *testing.T) {
	tpl, rulesOnly := auditFixture().tpl, auditFixture().rulesOnly
	if rulesOnly.Bucket != nil || rulesOnly.Trail != nil {
		t.Error("rules only: made a bucket or a trail")
	}
	var locked []string
	for _, b := range constructtest.OfType(tpl, "AWS::S3::Bucket") {
		if b["ObjectLockEnabled"] == true {
			locked = append(locked, constructtest.JSON(b))
		}
	}
	if len(locked) != 1 {
		t.Fatalf("%d buckets with Object Lock, want the audit bucket only", len(locked))
	}
	for _, want := range []string{`"Status":"Enabled"`, `"SSEAlgorithm":"aws:kms"`, `"Mode":"GOVERNANCE"`,
		fmt.Sprintf(`"Days":%d`, lockDays), `"NoncurrentDays":90`, `"DaysAfterInitiation":7`, `"LogFilePrefix":"AuditBucket/"`} {
		if !strings.Contains(locked[0], want) {
			t.Errorf("audit bucket lacks %s: %s", want, locked[0])
		}
	}
	// The log bucket refuses AuditBucket/ access logs from other accounts.
	var deny bool
	for _, p := range constructtest.OfType(tpl, "AWS::S3::BucketPolicy") {
		s := constructtest.JSON(p)
		deny = deny || strings.Contains(s, `"Sid":"AuditBucketLogsFromThisAccountOnly"`) && strings.Contains(s, `"aws:SourceAccount"`)
	}
	if !deny {
		t.Error("log bucket policy lacks the AuditBucketLogsFromThisAccountOnly deny")
	}
}

// One multi-region trail with log-file validation and the key, recording
// S3 data events on exactly the zone buckets.
func TestTrailRecordsTheZones(t *testing.T) {
	tpl := auditFixture().tpl
	trails := constructtest.OfType(tpl, "AWS::CloudTrail::Trail")
	if len(trails) != 1 {
		t.Fatalf("%d trails, want 1", len(trails))
	}
	tr := trails[0]
	if tr["IsMultiRegionTrail"] != true || tr["EnableLogFileValidation"] != true || tr["KMSKeyId"] == nil || tr["TrailName"] != "t-full-trail" {
		t.Errorf("trail = %v", tr)
	}
	var data []string
	for _, sel := range tr["EventSelectors"].([]any) {
		rs, _ := sel.(map[string]any)["DataResources"].([]any)
		for _, r := range rs {
			for _, v := range r.(map[string]any)["Values"].([]any) {
				data = append(data, constructtest.JSON(v))
			}
		}
	}
	if len(data) != len(zoneIDs) {
		t.Errorf("data events on %d buckets, want %d: %v", len(data), len(zoneIDs), data)
	}
	for i, id := range zoneIDs {
		if i < len(data) && !strings.Contains(data[i], id) {
			t.Errorf("data event %d = %s, want bucket %s", i, data[i], id)
		}
	}
}

// Four S3 rules per zone plus key rotation and trail, per audit; the full
// one's rules wait for its recorder and channel, and its trail rule names
// the audit bucket.
func TestConfigRules(t *testing.T) {
	tpl := auditFixture().tpl
	res := tpl["Resources"].(map[string]any)
	count := map[string]int{}
	for _, r := range res {
		r := r.(map[string]any)
		if r["Type"] != "AWS::Config::ConfigRule" {
			continue
		}
		name := r["Properties"].(map[string]any)["ConfigRuleName"].(string)
		prefix := strings.SplitN(name, "-", 3)[0] + "-" + strings.SplitN(name, "-", 3)[1]
		count[prefix]++
		deps := constructtest.JSON(r["DependsOn"])
		if prefix == "t-full" && (!strings.Contains(deps, "ConfigRecorder") || !strings.Contains(deps, "ConfigDeliveryChannel")) {
			t.Errorf("%s depends on %s, want the recorder and the channel", name, deps)
		}
		if prefix == "t-rules" && deps != "null" {
			t.Errorf("%s depends on %s with no recorder", name, deps)
		}
		if strings.HasSuffix(name, "cloudtrail-enabled") {
			if has := strings.Contains(constructtest.JSON(r["Properties"]), "s3BucketName"); has != (prefix == "t-full") {
				t.Errorf("%s names a bucket = %v", name, has)
			}
		}
	}
	want := 4*len(zoneIDs) + 2
	if count["t-full"] != want || count["t-rules"] != want {
		t.Errorf("rules per audit = %v, want %d each", count, want)
	}
	recs := constructtest.OfType(tpl, "AWS::Config::ConfigurationRecorder")
	if len(recs) != 1 || !strings.Contains(constructtest.JSON(recs[0]), constructtest.JSON(audit.ConfigRecordedTypes)) {
		t.Errorf("recorders = %v, want one recording %v", recs, audit.ConfigRecordedTypes)
	}
}

func TestAuditPassesCdkNag(t *testing.T) {
	for _, e := range auditFixture().nagErrors {
		t.Error(e)
	}
}
