package constructtest_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/lakebucket"
)

// lakebucketBuilt is what the lakebucket tests read.
type lakebucketBuilt struct {
	plain, replicated map[string]any
	nagErrors         []string
}

// lakebucketFixture synthesizes the two lakebucket stacks once, on first use.
var lakebucketFixture = sync.OnceValue(func() (b lakebucketBuilt) {
	b.plain, b.nagErrors = lakebucketBuild(false)
	b.replicated, _ = lakebucketBuild(true)
	return b
})

func lakebucketBuild(replicate bool) (map[string]any, []string) {
	stack := constructtest.NewStack("Buckets")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	logs := lakebucket.NewAccessLogs(stack, "Logs", lakebucket.AccessLogsProps{Expiration: awscdk.Duration_Days(jsii.Number(90)), AbortIncompleteUploads: awscdk.Duration_Days(jsii.Number(7))})
	p := lakebucket.Props{BucketName: "t-raw", Key: key, AccessLogs: logs}
	if replicate {
		p.ReplicateTo = awss3.Bucket_FromBucketArn(stack, jsii.String("Copy"), jsii.String("arn:aws:s3:::t-raw-copy"))
		p.ReplicateKey = awskms.Key_FromKeyArn(stack, jsii.String("CopyKey"), jsii.String("arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"))
	}
	lakebucket.New(stack, "Raw", p)
	// Skipped: the CDK's stack-wide bucket notifications handler
	// (EventBridge delivery), which the storage stack acknowledges once per
	// stack.
	return constructtest.Synth(stack, "/BucketNotificationsHandler")
}

func zone(tpl map[string]any) map[string]any {
	for _, b := range constructtest.OfType(tpl, "AWS::S3::Bucket") {
		if b["BucketName"] == "t-raw" {
			return b
		}
	}
	return nil
}

func TestZoneBucketDefaults(t *testing.T) {
	plain := lakebucketFixture().plain
	b := zone(plain)
	if b == nil {
		t.Fatal("no zone bucket")
	}
	enc, _ := json.Marshal(b["BucketEncryption"])
	for _, want := range []string{`"SSEAlgorithm":"aws:kms"`, `"BucketKeyEnabled":true`} {
		if !strings.Contains(string(enc), want) {
			t.Errorf("encryption %s lacks %s", enc, want)
		}
	}
	if v, _ := json.Marshal(b["VersioningConfiguration"]); string(v) != `{"Status":"Enabled"}` || b["ReplicationConfiguration"] != nil {
		t.Errorf("versioning %s, replication %v", v, b["ReplicationConfiguration"])
	}
	var sids []string
	for _, p := range constructtest.OfType(plain, "AWS::S3::BucketPolicy") {
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			if sid, ok := s.(map[string]any)["Sid"].(string); ok {
				sids = append(sids, sid)
			}
		}
	}
	for _, want := range []string{"DenyNonKmsEncryption", "DenyForeignKmsKey", "DenyKmsWithoutKeyId"} {
		if !strings.Contains(strings.Join(sids, " "), want) {
			t.Errorf("bucket policy lacks %s: %v", want, sids)
		}
	}
}

func TestReplicationCopiesEverythingReEncrypted(t *testing.T) {
	replicated := lakebucketFixture().replicated
	rc, _ := zone(replicated)["ReplicationConfiguration"].(map[string]any)
	if rc == nil {
		t.Fatal("no replication")
	}
	rule, _ := json.Marshal(rc["Rules"])
	for _, want := range []string{`"Bucket":"arn:aws:s3:::t-raw-copy"`, `"ReplicaKmsKeyID":"arn:aws:kms:eu-west-1:`, `"SseKmsEncryptedObjects":{"Status":"Enabled"}`, `"DeleteMarkerReplication":{"Status":"Enabled"}`} {
		if !strings.Contains(string(rule), want) {
			t.Errorf("rule %s lacks %s", rule, want)
		}
	}
}

// The access log bucket: SSE-S3 (S3 log delivery cannot write SSE-KMS),
// private, logs and old versions expire, retained by default.
func TestAccessLogBucket(t *testing.T) {
	plain := lakebucketFixture().plain
	for id, r := range plain["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if !strings.HasPrefix(id, "Logs") || r["Type"] != "AWS::S3::Bucket" {
			continue
		}
		p, _ := json.Marshal(r["Properties"])
		for _, want := range []string{`"SSEAlgorithm":"AES256"`, `"ExpirationInDays":90`, `"NoncurrentVersionExpiration":{"NoncurrentDays":1}`,
			`"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7}`, `"BlockPublicAcls":true`, `"ObjectOwnership":"BucketOwnerEnforced"`} {
			if !strings.Contains(string(p), want) {
				t.Errorf("access log bucket lacks %s: %s", want, p)
			}
		}
		if r["DeletionPolicy"] != "Retain" {
			t.Errorf("access log bucket DeletionPolicy = %v", r["DeletionPolicy"])
		}
		return
	}
	t.Fatal("no access log bucket")
}

func TestLakeBucketPassesCdkNag(t *testing.T) {
	for _, e := range lakebucketFixture().nagErrors {
		t.Error(e)
	}
}
