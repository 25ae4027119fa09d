package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Logical ids of stateful resources are a deployed contract: a new id makes
// CloudFormation replace the resource (a bucket full of data, or the key
// that decrypts it). Change one only with a migration plan.
var pinnedStorageIDs = map[string]string{
	"LakeKey09476F72":             "AWS::KMS::Key",
	"AccessLogsBucket83982689":    "AWS::S3::Bucket",
	"RawBucket0C3EE094":           "AWS::S3::Bucket",
	"ProcessedBucketDE59930C":     "AWS::S3::Bucket",
	"CuratedBucket6A59C97E":       "AWS::S3::Bucket",
	"AthenaResultsBucket879938FA": "AWS::S3::Bucket",
}

func TestStorageLogicalIDsArePinned(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		res := s.json("storage")["Resources"].(map[string]any)
		for id, typ := range pinnedStorageIDs {
			r, ok := res[id].(map[string]any)
			if !ok || r["Type"] != typ {
				t.Errorf("%s: logical id %s (%s) changed or missing: this would replace a stateful resource", s.Cfg.Name, id, typ)
			}
		}
	}
}

func TestZoneBucketsNamedFromConfig(t *testing.T) {
	res := prod.json("storage")["Resources"].(map[string]any)
	for id, name := range map[string]string{
		"RawBucket0C3EE094":       "data-pipeline-raw-prod",
		"ProcessedBucketDE59930C": "data-pipeline-processed-prod",
		"CuratedBucket6A59C97E":   "data-pipeline-curated-prod",
	} {
		if got := props(res[id].(map[string]any))["BucketName"]; got != name {
			t.Errorf("%s BucketName = %v, want %s", id, got, name)
		}
	}
}

func TestZoneBucketsEncryptedVersionedPrivateLogged(t *testing.T) {
	for _, name := range []string{"data-pipeline-raw-dev", "data-pipeline-processed-dev", "data-pipeline-curated-dev"} {
		check(t, name, func() {
			dev.tpl("storage").HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
				"BucketName": name,
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"BucketKeyEnabled": true,
					"ServerSideEncryptionByDefault": map[string]any{
						"SSEAlgorithm":   "aws:kms",
						"KMSMasterKeyID": map[string]any{"Fn::GetAtt": []any{"LakeKey09476F72", "Arn"}},
					},
				}}},
				"VersioningConfiguration": map[string]any{"Status": "Enabled"},
				"PublicAccessBlockConfiguration": map[string]any{
					"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
				},
				"LoggingConfiguration": map[string]any{
					"DestinationBucketName": map[string]any{"Ref": "AccessLogsBucket83982689"},
				},
				"NotificationConfiguration": assertions.Match_Absent(),
				"OwnershipControls":         map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			})
		})
	}
	// EventBridge notifications are switched on through the CDK's handler.
	check(t, "eventbridge", func() {
		dev.tpl("storage").ResourcePropertiesCountIs(jsii.String("Custom::S3BucketNotifications"), map[string]any{
			"NotificationConfiguration": map[string]any{"EventBridgeConfiguration": map[string]any{}},
		}, jsii.Number(4)) // raw, processed, curated, athena results
	})
}

func TestAccessLogAndResultsBuckets(t *testing.T) {
	res := dev.json("storage")["Resources"].(map[string]any)
	logs := props(res["AccessLogsBucket83982689"].(map[string]any))
	enc := logs["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)["ServerSideEncryptionByDefault"].(map[string]any)
	if enc["SSEAlgorithm"] != "AES256" {
		t.Errorf("access-log bucket must use SSE-S3 (S3 log delivery cannot write SSE-KMS), got %v", enc)
	}
	if exp := lifecycleRule(logs, "expire-access-logs")["ExpirationInDays"]; exp != 90.0 {
		t.Errorf("access logs expire after %v days, want 90", exp)
	}
	results := props(res["AthenaResultsBucket879938FA"].(map[string]any))
	if exp := lifecycleRule(results, "expire-query-results")["ExpirationInDays"]; exp != 30.0 {
		t.Errorf("query results expire after %v days, want 30", exp)
	}
	if sse := results["BucketEncryption"].(map[string]any)["ServerSideEncryptionConfiguration"].([]any)[0].(map[string]any)["ServerSideEncryptionByDefault"].(map[string]any)["SSEAlgorithm"]; sse != "aws:kms" {
		t.Errorf("results bucket SSE = %v, want aws:kms", sse)
	}
}

func TestBucketPoliciesDenyPlainTransportAndForeignKeys(t *testing.T) {
	key := map[string]any{"Fn::GetAtt": []any{"LakeKey09476F72", "Arn"}}
	// The exact condition of each deny statement: an inverted operator or
	// a wrong key must fail.
	want := map[string]map[string]any{
		"DenyNonKmsEncryption": {"StringNotEquals": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"}, "Null": map[string]any{"s3:x-amz-server-side-encryption": "false"}},
		"DenyForeignKmsKey":    {"StringNotEquals": map[string]any{"s3:x-amz-server-side-encryption-aws-kms-key-id": key}, "Null": map[string]any{"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"}},
		"DenyKmsWithoutKeyId": {
			"StringEquals": map[string]any{"s3:x-amz-server-side-encryption": "aws:kms"},
			"Null":         map[string]any{"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"},
		},
	}
	for _, bucket := range []string{"RawBucket0C3EE094", "ProcessedBucketDE59930C", "CuratedBucket6A59C97E"} {
		var tls, tls12 bool
		seen := map[string]bool{}
		for _, s := range bucketPolicy(t, dev.json("storage"), bucket) {
			if s["Effect"] != "Deny" {
				continue
			}
			cond, _ := json.Marshal(s["Condition"])
			switch {
			case string(cond) == `{"Bool":{"aws:SecureTransport":"false"}}`:
				tls = true
			case string(cond) == `{"NumericLessThan":{"s3:TlsVersion":1.2}}`:
				tls12 = true
			}
			sid, _ := s["Sid"].(string)
			if w, ok := want[sid]; ok {
				seen[sid] = true
				wb, _ := json.Marshal(w)
				if string(cond) != string(wb) {
					t.Errorf("%s %s condition = %s, want %s", bucket, sid, cond, wb)
				}
				if s["Action"] != "s3:PutObject" || s["Principal"].(map[string]any)["AWS"] != "*" {
					t.Errorf("%s %s must deny s3:PutObject to everyone: %v", bucket, sid, s)
				}
			}
		}
		if !tls || !tls12 {
			t.Errorf("%s: TLS-only deny statements present: plain=%v below-1.2=%v", bucket, tls, tls12)
		}
		for sid := range want {
			if !seen[sid] {
				t.Errorf("%s lacks %s", bucket, sid)
			}
		}
	}
}

func TestLifecyclePerZone(t *testing.T) {
	res := dev.json("storage")["Resources"].(map[string]any)
	raw := lifecycleRule(props(res["RawBucket0C3EE094"].(map[string]any)), "raw-tiering-and-retention")
	want := `[{"StorageClass":"INTELLIGENT_TIERING","TransitionInDays":30},{"StorageClass":"GLACIER","TransitionInDays":180}]`
	if b, _ := json.Marshal(raw["Transitions"]); string(b) != want {
		t.Errorf("raw transitions = %s, want %s", b, want)
	}
	if raw["ExpirationInDays"] != 2555.0 || raw["NoncurrentVersionExpiration"].(map[string]any)["NoncurrentDays"] != 90.0 || raw["AbortIncompleteMultipartUpload"].(map[string]any)["DaysAfterInitiation"] != 7.0 {
		t.Errorf("raw expiry/noncurrent/multipart wrong: %v", raw)
	}
	for id, rule := range map[string]string{"ProcessedBucketDE59930C": "processed-tiering", "CuratedBucket6A59C97E": "curated-tiering"} {
		r := lifecycleRule(props(res[id].(map[string]any)), rule)
		b, _ := json.Marshal(r["Transitions"])
		if string(b) != `[{"StorageClass":"INTELLIGENT_TIERING","TransitionInDays":0}]` || r["ExpirationInDays"] != nil {
			t.Errorf("%s lifecycle = %v: want Intelligent-Tiering at once and no expiry", id, r)
		}
		nc, _ := r["NoncurrentVersionExpiration"].(map[string]any)
		mpu, _ := r["AbortIncompleteMultipartUpload"].(map[string]any)
		if nc["NoncurrentDays"] != 90.0 || mpu["DaysAfterInitiation"] != 7.0 {
			t.Errorf("%s noncurrent/multipart = %v/%v, want 90/7", id, nc, mpu)
		}
	}
}

func TestRemovalPolicies(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		for id, r := range s.json("storage")["Resources"].(map[string]any) {
			res := r.(map[string]any)
			if typ := res["Type"]; (typ == "AWS::S3::Bucket" || typ == "AWS::KMS::Key") && res["DeletionPolicy"] != "Retain" {
				t.Errorf("%s/%s DeletionPolicy = %v, want Retain", s.Cfg.Name, id, res["DeletionPolicy"])
			}
		}
	}
	// The double opt-in (allow_destroy + confirm_destroy) in dev: buckets go,
	// and are emptied first so `cdk destroy --all` works.
	res := devCustom.json("storage")["Resources"].(map[string]any)
	for id := range pinnedStorageIDs {
		if res[id].(map[string]any)["DeletionPolicy"] != "Delete" {
			t.Errorf("devCustom/%s should be deletable with the double opt-in", id)
		}
	}
	if len(resources(devCustom.json("storage"), "Custom::S3AutoDeleteObjects")) != 6-1 {
		t.Errorf("want auto-delete on the 5 buckets when destroy is confirmed")
	}
	if len(resources(dev.json("storage"), "Custom::S3AutoDeleteObjects")) != 0 {
		t.Errorf("auto-delete must not exist without the opt-in")
	}
}

func TestKeyRotationAndServiceStatements(t *testing.T) {
	check(t, "key", func() {
		dev.tpl("storage").HasResourceProperties(jsii.String("AWS::KMS::Key"), map[string]any{
			"EnableKeyRotation": true,
			"KeyPolicy": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"Sid": "AllowCloudWatchLogs", "Condition": assertions.Match_ObjectLike(&map[string]any{"ArnLike": assertions.Match_AnyValue()})}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "AllowCloudTrailEncrypt"}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "AllowCloudWatchAlarms", "Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}}}}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "AllowBudgets"}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "AllowEventBridge", "Condition": assertions.Match_Absent()}),
				assertions.Match_ObjectLike(&map[string]any{"Sid": "DenyGrantsNotForAwsResources", "Effect": "Deny"}),
			})},
		})
	})
}

func TestZoneClassificationTags(t *testing.T) {
	res := dev.json("storage")["Resources"].(map[string]any)
	for id, want := range map[string]string{"RawBucket0C3EE094": "confidential", "ProcessedBucketDE59930C": "confidential", "CuratedBucket6A59C97E": "internal"} {
		if got := tagMap(props(res[id].(map[string]any)))["data-classification"]; got != want {
			t.Errorf("%s data-classification = %q, want %q", id, got, want)
		}
	}
}

func TestPrivateNetworkOnlyWhenEnabled(t *testing.T) {
	if n := len(resources(dev.json("storage"), "AWS::EC2::VPC")); n != 0 {
		t.Errorf("dev (enable_vpc off) has %d VPCs", n)
	}
	for _, s := range []*scenario{prod, devCustom} {
		tpl := s.json("storage")
		if len(resources(tpl, "AWS::EC2::VPC")) != 1 || len(resources(tpl, "AWS::EC2::NatGateway")) != 0 || len(resources(tpl, "AWS::EC2::InternetGateway")) != 0 {
			t.Errorf("%s: want one VPC with no NAT and no internet gateway", s.Cfg.Name)
		}
		if len(resources(tpl, "AWS::EC2::FlowLog")) != 1 {
			t.Errorf("%s: want VPC flow logs", s.Cfg.Name)
		}
		services := map[string]bool{}
		for _, e := range resources(tpl, "AWS::EC2::VPCEndpoint") {
			b, _ := json.Marshal(props(e)["ServiceName"])
			for _, svc := range []string{"s3", "glue", "kms", "logs", "monitoring", "sts", "kinesis-streams", "secretsmanager"} {
				if strings.Contains(string(b), "."+svc+`"`) || strings.Contains(string(b), "."+svc+".") {
					services[svc] = true
				}
			}
		}
		for _, svc := range []string{"s3", "glue", "kms", "logs", "sts", "kinesis-streams", "secretsmanager"} {
			if !services[svc] {
				t.Errorf("%s: no %s endpoint (have %v)", s.Cfg.Name, svc, services)
			}
		}
	}
	if prod.Lake.Storage.Vpc == nil || prod.Lake.Storage.JobSecurityGroup == nil || dev.Lake.Storage.Vpc != nil {
		t.Error("Storage.Vpc/JobSecurityGroup must be set exactly when enable_vpc is on")
	}
}

func bucketPolicy(t *testing.T, tpl map[string]any, bucketID string) []map[string]any {
	t.Helper()
	for _, p := range resources(tpl, "AWS::S3::BucketPolicy") {
		if ref, _ := props(p)["Bucket"].(map[string]any); ref["Ref"] == bucketID {
			var out []map[string]any
			for _, s := range props(p)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				out = append(out, s.(map[string]any))
			}
			return out
		}
	}
	t.Fatalf("no bucket policy for %s", bucketID)
	return nil
}

func lifecycleRule(bucketProps map[string]any, id string) map[string]any {
	lc, _ := bucketProps["LifecycleConfiguration"].(map[string]any)
	rules, _ := lc["Rules"].([]any)
	for _, r := range rules {
		if m := r.(map[string]any); m["Id"] == id {
			return m
		}
	}
	return map[string]any{}
}

// Off by default; when on, raw (not processed or curated: they are derived)
// and the audit bucket replicate everything, SSE-KMS objects and delete
// markers included, re-encrypted with the destination key, through a role
// S3 can assume; and the extra role passes cdk-nag.
func TestReplicationWhenEnabled(t *testing.T) {
	for _, s := range []*scenario{dev, prod} {
		for _, layer := range []string{"storage", "observability"} {
			for id, b := range resources(s.json(layer), "AWS::S3::Bucket") {
				if props(b)["ReplicationConfiguration"] != nil {
					t.Errorf("%s %s: replication on although the replication block is off", s.Cfg.Name, id)
				}
			}
		}
	}
	s := customScenario() // replication on
	r := s.Cfg.Replication
	for _, c := range []struct {
		layer, bucket, dest string
	}{{"storage", "RawBucket", r.RawDestinationBucketArn}, {"observability", "AuditBucket", r.AuditDestinationBucketArn}} {
		tpl := s.json(c.layer)
		b := resources(tpl, "AWS::S3::Bucket")[logicalIDOf(tpl, "AWS::S3::Bucket", c.bucket)]
		rc, _ := props(b)["ReplicationConfiguration"].(map[string]any)
		if rc == nil {
			t.Errorf("%s: no replication", c.bucket)
			continue
		}
		rule := rc["Rules"].([]any)[0].(map[string]any)
		dst := rule["Destination"].(map[string]any)
		sse, _ := rule["SourceSelectionCriteria"].(map[string]any)
		if dst["Bucket"] != c.dest || fmt.Sprint(dst["EncryptionConfiguration"]) != "map[ReplicaKmsKeyID:"+r.DestinationKmsKeyArn+"]" ||
			rule["Status"] != "Enabled" || fmt.Sprint(sse["SseKmsEncryptedObjects"]) != "map[Status:Enabled]" ||
			fmt.Sprint(rule["DeleteMarkerReplication"]) != "map[Status:Enabled]" {
			t.Errorf("%s replication rule = %v", c.bucket, rule)
		}
		role, _ := rc["Role"].(map[string]any)
		if role == nil {
			t.Errorf("%s: no replication role", c.bucket)
		}
	}
	for id, b := range resources(s.json("storage"), "AWS::S3::Bucket") {
		if props(b)["ReplicationConfiguration"] != nil && !strings.HasPrefix(id, "RawBucket") {
			t.Errorf("%s replicates: only raw is copied", id)
		}
	}
	for stack, errs := range s.errors {
		for _, e := range errs {
			t.Errorf("%s: %s", stack, e)
		}
	}
}
