package test

import (
	"encoding/json"
	"testing"

	"github.com/example/datalake/stacks"
)

// customScenario is dev with every number these tests read set away from its
// default, so a hard-coded value in a stack fails the test instead of
// passing by coincidence; it also reserves validator concurrency and copies
// raw and audit to another region (one synthesis serves those tests too:
// each synthesis of the app costs about 1.5 s of go test's budget).
func customScenario() *scenario {
	return scenarioWith("custom", "dev", map[string]any{
		"lifecycle": map[string]any{
			"raw_intelligent_tiering_days":       10,
			"raw_glacier_days":                   0,
			"raw_expiration_days":                400,
			"processed_intelligent_tiering_days": 5,
			"curated_intelligent_tiering_days":   15,
			"noncurrent_version_expiration_days": 30,
		},
		"api_rate_limit":                 50,
		"api_burst_limit":                60,
		"job_timeout_minutes":            45,
		"job_max_retries":                2,
		"glue_version":                   "5.1",
		"worker_type":                    "G.2X",
		"number_of_workers":              10,
		"validator_reserved_concurrency": 7,
		"replication": map[string]any{
			"enabled": true, "destination_region": "eu-west-1",
			"raw_destination_bucket_arn":   "arn:aws:s3:::lake-raw-copy",
			"audit_destination_bucket_arn": "arn:aws:s3:::lake-audit-copy",
			"destination_kms_key_arn":      "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555",
		},
	}, stacks.Options{})
}

func TestLifecycleFollowsConfig(t *testing.T) {
	res := customScenario().json("storage")["Resources"].(map[string]any)
	raw := lifecycleRule(props(res["RawBucket0C3EE094"].(map[string]any)), "raw-tiering-and-retention")
	b, _ := json.Marshal(raw["Transitions"])
	// raw_glacier_days 0 drops the Glacier step.
	if string(b) != `[{"StorageClass":"INTELLIGENT_TIERING","TransitionInDays":10}]` || raw["ExpirationInDays"] != 400.0 {
		t.Errorf("raw lifecycle = %s, expiry %v", b, raw["ExpirationInDays"])
	}
	for id, want := range map[string]float64{"ProcessedBucketDE59930C": 5, "CuratedBucket6A59C97E": 15} {
		r := lifecycleRule(props(res[id].(map[string]any)), map[string]string{"ProcessedBucketDE59930C": "processed-tiering", "CuratedBucket6A59C97E": "curated-tiering"}[id])
		tr := r["Transitions"].([]any)[0].(map[string]any)
		if tr["TransitionInDays"] != want || r["NoncurrentVersionExpiration"].(map[string]any)["NoncurrentDays"] != 30.0 {
			t.Errorf("%s lifecycle = %v", id, r)
		}
	}
}

func TestApiThrottlingFollowsConfig(t *testing.T) {
	n := 0
	for _, st := range resources(customScenario().json("ingestion"), "AWS::ApiGateway::Stage") {
		for _, m := range props(st)["MethodSettings"].([]any) {
			n++
			ms := m.(map[string]any)
			if ms["ThrottlingRateLimit"] != 50.0 || ms["ThrottlingBurstLimit"] != 60.0 {
				t.Errorf("stage throttling = %v/%v, want 50/60", ms["ThrottlingRateLimit"], ms["ThrottlingBurstLimit"])
			}
		}
	}
	if n == 0 {
		t.Fatal("no stage method settings found")
	}
}

func TestJobSettingsFollowConfig(t *testing.T) {
	jobs := glueJobs(customScenario())
	if len(jobs) == 0 {
		t.Fatal("no Glue jobs")
	}
	for name, j := range jobs {
		if j["WorkerType"] != "G.2X" || j["NumberOfWorkers"] != 10.0 || j["Timeout"] != 45.0 || j["MaxRetries"] != 2.0 || j["GlueVersion"] != "5.1" {
			t.Errorf("%s = %v x %v, timeout %v, retries %v, version %v", name, j["WorkerType"], j["NumberOfWorkers"], j["Timeout"], j["MaxRetries"], j["GlueVersion"])
		}
		if np := j["NotificationProperty"].(map[string]any); np["NotifyDelayAfter"] != 36.0 {
			t.Errorf("%s notifies after %v, want 36 (80%% of 45)", name, np["NotifyDelayAfter"])
		}
	}
}
