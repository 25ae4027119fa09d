package config

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// cdkContext returns the context of the repository's cdk.json, so the tests
// check the configuration users actually ship.
func cdkContext(t *testing.T) Context {
	t.Helper()
	b, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Context Context }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Context
}

// withDev returns the cdk.json context with the dev block replaced by
// block (JSON).
func withDev(t *testing.T, block string) Context {
	t.Helper()
	ctx := cdkContext(t)
	var v any
	if err := json.Unmarshal([]byte(block), &v); err != nil {
		t.Fatalf("bad test block %s: %v", block, err)
	}
	envs := ctx[KeyEnvironments].(map[string]any)
	envs["dev"] = v
	return ctx
}

const minimal = `{"region":"us-west-2","project":"data-pipeline","alarm_email_address":"a@example.com"%s}`

func block(extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return strings.Replace(minimal, "%s", extra, 1)
}

func TestShippedEnvironmentsAreValid(t *testing.T) {
	ctx := cdkContext(t)
	for _, name := range ctx.Names() {
		if _, err := Load(ctx, name); err != nil {
			t.Errorf("cdk.json environment %s: %v", name, err)
		}
	}
	if got := ctx.Names(); strings.Join(got, ",") != "dev,prod" {
		t.Errorf("environments = %v, want dev and prod", got)
	}
}

func TestSeedDefaults(t *testing.T) {
	c, err := Load(withDev(t, block("")), "dev")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"environment", c.Environment.Environment, "dev"},
		{"raw_bucket_name", c.RawBucketName, "data-pipeline-raw-dev"},
		{"processed_bucket_name", c.ProcessedBucketName, "data-pipeline-processed-dev"},
		{"curated_bucket_name", c.CuratedBucketName, "data-pipeline-curated-dev"},
		{"data_catalog_database_name", c.DataCatalogDatabaseName, "data_pipeline_dev_catalog"},
		{"athena_database_name", c.AthenaDatabaseName, "data_pipeline_dev_athena"},
		{"athena_workgroup_name", c.AthenaWorkgroupName, "data-pipeline-dev-workgroup"},
		{"worker_type", c.WorkerType, "G.1X"},
		{"stream_mode", c.StreamMode, "provisioned"},
		{"glue_version", c.GlueVersion, "5.0"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s default = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	ints := []struct {
		name      string
		got, want int
	}{
		{"shard_count", c.ShardCount, 2},
		{"retention_period", c.RetentionPeriod, 24},
		{"number_of_workers", c.NumberOfWorkers, 5},
		{"firehose_buffer_seconds", c.FirehoseBufferSeconds, 900},
		{"firehose_buffer_mb", c.FirehoseBufferMB, 128},
		{"job_timeout_minutes", c.JobTimeoutMinutes, 120},
		{"job_max_retries", Int(c.JobMaxRetries), 1},
		{"log_retention_days", c.LogRetentionDays, 30},
		{"lifecycle.raw_glacier_days", Int(c.Lifecycle.RawGlacierDays), 180},
		{"lifecycle.raw_expiration_days", Int(c.Lifecycle.RawExpirationDays), 2555},
		{"athena_bytes_scanned_cutoff_mb", c.AthenaBytesScannedCutoffMB, 10240},
	}
	for _, ch := range ints {
		if ch.got != ch.want {
			t.Errorf("%s default = %d, want %d", ch.name, ch.got, ch.want)
		}
	}
	if !Bool(c.EnableCloudwatchAlarms) || !Bool(c.EnableCloudTrail) || Bool(c.EnableVPC) || Bool(c.EnableWAF) || !Bool(c.UseFlex) || c.IsProduction() {
		t.Errorf("dev boolean defaults wrong: alarms=%v trail=%v vpc=%v waf=%v flex=%v prod=%v",
			Bool(c.EnableCloudwatchAlarms), Bool(c.EnableCloudTrail), Bool(c.EnableVPC), Bool(c.EnableWAF), Bool(c.UseFlex), c.IsProduction())
	}
}

func TestProductionDefaults(t *testing.T) {
	c, err := Load(cdkContext(t), "prod")
	if err != nil {
		t.Fatal(err)
	}
	if !c.IsProduction() || !Bool(c.EnableVPC) || !Bool(c.EnableWAF) || Bool(c.UseFlex) || c.LogRetentionDays != 365 {
		t.Errorf("prod defaults wrong: prod=%v vpc=%v waf=%v flex=%v logs=%d",
			c.IsProduction(), Bool(c.EnableVPC), Bool(c.EnableWAF), Bool(c.UseFlex), c.LogRetentionDays)
	}
	// The seed's prod values.
	if c.ShardCount != 2 || c.NumberOfWorkers != 5 || c.RawBucketName != "data-pipeline-raw-prod" || c.AthenaWorkgroupName != "data-pipeline-prod-workgroup" {
		t.Errorf("prod does not carry the seed's values: %+v", c.Environment)
	}
}

// TestBadConfig: every rule a user can break, the key its message names and
// a fragment of what it says is allowed.
func TestBadConfig(t *testing.T) {
	cases := []struct {
		name  string
		block string
		want  []string // fragments that must all appear in the error
	}{
		{"typo in a key", block(`"shard_cont":3`), []string{`environments.dev.shard_cont: unknown key (did you mean "shard_count"?)`}},
		{"missing region", `{"project":"data-pipeline","alarm_email_address":"a@example.com"}`, []string{"environments.dev.region: missing"}},
		{"missing project", `{"region":"us-west-2","alarm_email_address":"a@example.com"}`, []string{"environments.dev.project: missing"}},
		{"unknown region", block(`"region":"us-west-9"`), []string{`environments.dev.region: "us-west-9" is not an AWS region`}},
		{"wrong type", block(`"shard_count":"two"`), []string{`environments.dev.shard_count: "two" is not a valid whole number`}},
		{"shard count zero", block(`"shard_count":0`), []string{"environments.dev.shard_count: 0 is out of range: use 1..20000"}},
		{"shard count above quota", block(`"region":"eu-central-1","shard_count":1001`), []string{"shard_count: 1001 is out of range: use 1..1000"}},
		{"retention too short", block(`"retention_period":12`), []string{"environments.dev.retention_period: 12 hours is out of range", "24..8760"}},
		{"retention too long", block(`"retention_period":9000`), []string{"retention_period: 9000 hours"}},
		{"unknown worker type", block(`"worker_type":"G.9X"`), []string{`environments.dev.worker_type: "G.9X" is not a Glue worker type`, "G.1X"}},
		{"too many workers", block(`"worker_type":"G.2X","number_of_workers":150`), []string{"environments.dev.number_of_workers: 150 is out of range for worker type G.2X: use 2..149"}},
		{"too few workers", block(`"number_of_workers":1`), []string{"number_of_workers: 1 is out of range"}},
		{"bad email", block(`"alarm_email_address":"alerts-at-example"`), []string{`environments.dev.alarm_email_address: "alerts-at-example" is not an email address`}},
		{"bucket too long", block(`"raw_bucket_name":"` + strings.Repeat("a", 64) + `"`), []string{"environments.dev.raw_bucket_name:", "it has 64 characters, S3 takes 3..63"}},
		{"bucket uppercase", block(`"curated_bucket_name":"Data_Lake"`), []string{`environments.dev.curated_bucket_name: "Data_Lake" is not a valid S3 bucket name`}},
		{"bucket as ip", block(`"processed_bucket_name":"192.168.1.1"`), []string{"processed_bucket_name", "IP address"}},
		{"bucket names equal", block(`"raw_bucket_name":"same-name","processed_bucket_name":"same-name"`), []string{"must differ"}},
		{"project yields bad bucket", block(`"project":"Data Pipeline"`), []string{`environments.dev.project: "Data Pipeline" is not allowed`}},
		{"athena database with hyphen", block(`"athena_database_name":"data-pipeline-dev"`), []string{`environments.dev.athena_database_name: "data-pipeline-dev" is not allowed`, "lowercase letters, digits and underscores"}},
		{"catalog database uppercase", block(`"data_catalog_database_name":"Catalog"`), []string{`data_catalog_database_name: "Catalog" is not allowed`}},
		{"workgroup with space", block(`"athena_workgroup_name":"my workgroup"`), []string{`environments.dev.athena_workgroup_name: "my workgroup" is not allowed`}},
		{"stream mode", block(`"stream_mode":"serverless"`), []string{`environments.dev.stream_mode: "serverless" is not allowed`}},
		{"destroy in prod", block(`"environment":"prod","allow_destroy":true`), []string{"environments.dev.allow_destroy: true is refused for a production environment"}},
		{"classification", block(`"raw_classification":"secret"`), []string{`environments.dev.raw_classification: "secret" is not allowed`}},
		{"lifecycle order", block(`"lifecycle":{"raw_intelligent_tiering_days":60,"raw_glacier_days":30}`), []string{"environments.dev.lifecycle.raw_glacier_days: 30 must be later than raw_intelligent_tiering_days (60)"}},
		{"lifecycle glacier minimum", block(`"lifecycle":{"raw_glacier_days":100,"raw_expiration_days":150}`), []string{"environments.dev.lifecycle.raw_expiration_days: 150 is less than 90 days after raw_glacier_days (100)"}},
		{"lifecycle negative", block(`"lifecycle":{"processed_intelligent_tiering_days":-1}`), []string{"lifecycle.processed_intelligent_tiering_days: -1 is negative"}},
		{"lifecycle typo", block(`"lifecycle":{"raw_glacer_days":100}`), []string{`environments.dev.lifecycle.raw_glacer_days: unknown key (did you mean "raw_glacier_days"?)`}},
		{"lifecycle zero expiry", block(`"lifecycle":{"athena_results_expiration_days":0}`), []string{"lifecycle.athena_results_expiration_days: 0 is not allowed"}},
		{"vpc cidr", block(`"vpc_cidr":"10.0.0.0/8"`), []string{`environments.dev.vpc_cidr: "10.0.0.0/8" has a /8 prefix`}},
		{"buffer too small", block(`"firehose_buffer_mb":5`), []string{"environments.dev.firehose_buffer_mb: 5 is out of range: use 64..128"}},
		{"buffer interval", block(`"firehose_buffer_seconds":1000`), []string{"firehose_buffer_seconds: 1000 is out of range"}},
		{"flex with big workers", block(`"worker_type":"G.4X","use_flex":true`), []string{`environments.dev.use_flex: true needs worker_type G.1X or G.2X`}},
		{"glue version", block(`"glue_version":"4.0"`), []string{`environments.dev.glue_version: "4.0" is not supported`}},
		{"schedule", block(`"etl_schedule":"daily"`), []string{`environments.dev.etl_schedule: "daily" is not a schedule expression`}},
		{"cron with free text", block(`"etl_schedule":"cron(every day)"`), []string{`environments.dev.etl_schedule: "cron(every day)" is not a schedule expression`}},
		{"cron with five fields", block(`"crawler_schedule":"cron(0 2 * * ?)"`), []string{`environments.dev.crawler_schedule: "cron(0 2 * * ?)" is not a schedule expression`}},
		{"cron without ?", block(`"etl_schedule":"cron(0 2 * * * *)"`), []string{"exactly one of day-of-month (3rd field) and day-of-week (5th field) must be ?"}},
		{"rate unit", block(`"etl_schedule":"rate(1 hours)"`), []string{"use the singular unit for 1"}},
		{"rate zero", block(`"etl_schedule":"rate(0 days)"`), []string{"the rate must be a positive whole number"}},
		{"explicit empty dms target", block(`"dms":{"target":""}`), []string{`environments.dev.dms.target: "" is not allowed`}},
		{"explicit zero dms storage", block(`"dms":{"allocated_storage_gb":0}`), []string{"environments.dev.dms.allocated_storage_gb: 0 is out of range"}},
		{"disabled dms with bad engine", block(`"dms":{"enabled":false,"source_engine":"db2"}`), []string{`environments.dev.dms.source_engine: "db2" is not allowed`}},
		{"explicit empty redshift type", block(`"redshift":{"type":""}`), []string{`environments.dev.redshift.type: "" is not allowed`}},
		{"log retention", block(`"log_retention_days":10`), []string{"environments.dev.log_retention_days: 10 is not a CloudWatch Logs retention"}},
		{"athena cutoff", block(`"athena_bytes_scanned_cutoff_mb":5`), []string{"athena_bytes_scanned_cutoff_mb: 5 is below Athena's minimum"}},
		{"account", block(`"account":"12345"`), []string{`environments.dev.account: "12345" is not an AWS account id`}},
		{"recorder without rules", block(`"create_config_recorder":true`), []string{"create_config_recorder: true needs enable_config_rules"}},
		{"not an object", `[1,2]`, []string{"environments.dev: must be a JSON object"}},
		{"dms without vpc and fields", block(`"dms":{"enabled":true,"source_engine":"db2","tables":["customers"]}`), []string{
			"environments.dev.dms.enabled: true needs enable_vpc: true",
			"environments.dev.dms.source_secret_name: missing",
			`environments.dev.dms.source_engine: "db2" is not allowed`,
			"environments.dev.dms.source_database: missing",
			`environments.dev.dms.tables[0]: "customers" is not a declared dataset`,
		}},
		{"dms typo", block(`"dms":{"enabeld":true}`), []string{`environments.dev.dms.enabeld: unknown key (did you mean "enabled"?)`}},
		{"dms target", block(`"enable_vpc":true,"dms":{"enabled":true,"source_secret_name":"s","source_engine":"mysql","source_database":"shop","tables":["orders"],"target":"firehose"}`), []string{`environments.dev.dms.target: "firehose" is not allowed`}},
		{"quicksight arn", block(`"quicksight":{"principal_arn":"bob"}`), []string{`environments.dev.quicksight.principal_arn: "bob" is not a QuickSight user or group ARN`}},
		{"redshift name", block(`"redshift":{"enabled":true,"name":"My_Cluster"}`), []string{`environments.dev.redshift.name: "My_Cluster" is not a Redshift namespace`}},
		{"emr without vpc", block(`"enable_emr":true`), []string{"environments.dev.enable_emr: true needs enable_vpc: true"}},
		{"emr release", block(`"emr_release_label":"7.5"`), []string{`environments.dev.emr_release_label: "7.5" is not an EMR release label`}},
		{"target file size", block(`"target_file_mb":64`), []string{"environments.dev.target_file_mb: 64 is out of range: use 128..1024"}},
		{"snapshot retention", block(`"snapshot_retention_days":0`), []string{"environments.dev.snapshot_retention_days: 0 is out of range: use 1..3650"}},
		{"snapshots to retain", block(`"snapshots_to_retain":0`), []string{"environments.dev.snapshots_to_retain: 0 is out of range: use 1..1000"}},
		{"orphan files outlive the longest run", block(`"job_timeout_minutes":2880,"orphan_file_retention_days":1`), []string{"environments.dev.orphan_file_retention_days: 1 is out of range: use 2..3650 (at least 1 day and longer than job_timeout_minutes 2880"}},
		{"api quota", block(`"api_quota_per_day":-1`), []string{"environments.dev.api_quota_per_day: -1 is negative"}},
		{"api latency", block(`"api_latency_p99_ms":30000`), []string{"environments.dev.api_latency_p99_ms: 30000 is out of range"}},
		{"validator reservation", block(`"validator_reserved_concurrency":-1`), []string{"environments.dev.validator_reserved_concurrency: -1 is out of range: use 0 (no reservation, the default) or 1..1000"}},
		{"object lock mode", block(`"audit_object_lock_mode":"legal"`), []string{`environments.dev.audit_object_lock_mode: "legal" is not allowed: use "off", "governance" or "compliance"`}},
		{"object lock days", block(`"audit_object_lock_mode":"governance","audit_object_lock_days":0`), []string{"environments.dev.audit_object_lock_days: 0 is out of range: use 1..36500 days"}},
		{"object lock with destroy", block(`"audit_object_lock_mode":"compliance","allow_destroy":true`), []string{`environments.dev.audit_object_lock_mode: "compliance" cannot be combined with allow_destroy`}},
		{"replication without destination", block(`"replication":{"enabled":true}`), []string{
			`environments.dev.replication.destination_region: "" is not an AWS region`,
			`environments.dev.replication.raw_destination_bucket_arn: "" is not an S3 bucket ARN`,
			`environments.dev.replication.destination_kms_key_arn: "" is not a KMS key ARN`,
		}},
		{"replication to the same region", block(`"replication":{"enabled":true,"destination_region":"us-west-2","raw_destination_bucket_arn":"arn:aws:s3:::copy","destination_kms_key_arn":"arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000"}`), []string{
			`environments.dev.replication.destination_region: "us-west-2" is the lake's own region`,
		}},
		{"replication key of another region", block(`"replication":{"enabled":true,"destination_region":"eu-west-1","raw_destination_bucket_arn":"arn:aws:s3:::copy","destination_kms_key_arn":"arn:aws:kms:us-west-2:123456789012:key/00000000-0000-0000-0000-000000000000"}`), []string{
			`is a key of us-west-2: the copies are encrypted in destination_region eu-west-1`,
		}},
		{"prefix list", block(`"s3_prefix_list_id":"com.amazonaws.us-west-2.s3"`), []string{`environments.dev.s3_prefix_list_id: "com.amazonaws.us-west-2.s3" is not a managed prefix list id`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(withDev(t, tc.block), "dev")
			if err == nil {
				t.Fatalf("no error for %s", tc.block)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	_, err := Load(withDev(t, block(`"shard_count":0,"retention_period":1,"worker_type":"X","alarm_email_address":"nope","typo":1,"number_of_workers":"many"`)), "dev")
	if err == nil {
		t.Fatal("no error")
	}
	// A typo, a badly typed value and four broken rules: all six at once,
	// and the badly typed key only once.
	if got := len(err.(*Error).Problems); got != 6 {
		t.Errorf("got %d problems, want 6:\n%v", got, err)
	}
	for _, w := range []string{"typo: unknown key", `number_of_workers: "many" is not a valid whole number`, "shard_count: 0", "retention_period: 1 hours", `worker_type: "X"`, `alarm_email_address: "nope"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in:\n%v", w, err)
		}
	}
}

func TestGoodSchedulesPass(t *testing.T) {
	for _, v := range []string{"cron(0 2 * * ? *)", "cron(15 10 ? * MON-FRI *)", "rate(1 day)", "rate(6 hours)", "rate(30 minutes)"} {
		if msg := scheduleProblem(v); msg != "" {
			t.Errorf("%s: %s", v, msg)
		}
	}
}

// Problems come out in the same order on every run (no map iteration).
func TestProblemOrderIsStable(t *testing.T) {
	bad := block(`"owner":"","cost_center":"","etl_schedule":"x","crawler_schedule":"y","lifecycle":{"access_log_expiration_days":0,"athena_results_expiration_days":0,"noncurrent_version_expiration_days":0}`)
	_, first := Load(withDev(t, bad), "dev")
	for i := 0; i < 20; i++ {
		if _, err := Load(withDev(t, bad), "dev"); err.Error() != first.Error() {
			t.Fatalf("problem order changed:\n%v\n---\n%v", first, err)
		}
	}
}

func TestUnknownEnvironment(t *testing.T) {
	_, err := Load(cdkContext(t), "stage")
	if err == nil || !strings.Contains(err.Error(), `env: "stage" is not declared in context.environments: use one of dev, prod`) {
		t.Errorf("got %v", err)
	}
}

func TestBadDatasets(t *testing.T) {
	cases := []struct{ name, datasets, want string }{
		{"unknown type", `[{"name":"a","event_time_field":"t","key":["id"],"columns":[{"name":"id","type":"string","required":true},{"name":"t","type":"datetime","required":true}]}]`,
			`datasets[a].columns[t].type: "datetime" is not a supported type`},
		{"event time not a column", `[{"name":"a","event_time_field":"ts","key":["id"],"columns":[{"name":"id","type":"string","required":true}]}]`,
			`datasets[a].event_time_field: "ts" is not one of the declared columns (id)`},
		{"key optional", `[{"name":"a","event_time_field":"t","key":["id"],"columns":[{"name":"id","type":"string"},{"name":"t","type":"timestamp","required":true}]}]`,
			`datasets[a].key[0]: "id" must be a required column`},
		{"bad name", `[{"name":"Click-Stream","event_time_field":"t","key":["t"],"columns":[{"name":"t","type":"timestamp","required":true}]}]`,
			`datasets[Click-Stream].name: "Click-Stream" is not a valid dataset name`},
		{"reserved column", `[{"name":"a","event_time_field":"dt","key":["dt"],"columns":[{"name":"dt","type":"date","required":true}]}]`,
			`datasets[a].columns[dt].name: "dt" is reserved`},
		{"unknown key", `[{"name":"a","event_time":"t","event_time_field":"t","key":["t"],"columns":[{"name":"t","type":"timestamp","required":true}]}]`,
			`datasets[a].event_time: unknown key (did you mean "event_time_field"?)`},
		{"range on string", `[{"name":"a","event_time_field":"t","key":["t"],"columns":[{"name":"t","type":"timestamp","required":true},{"name":"s","type":"string","min":1}]}]`,
			`datasets[a].columns[s].min/max: is set on a string column`},
		{"empty", `[]`, "datasets: is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := cdkContext(t)
			var v any
			if err := json.Unmarshal([]byte(tc.datasets), &v); err != nil {
				t.Fatal(err)
			}
			ctx[KeyDatasets] = v
			delete(ctx, KeyJoins)
			_, err := Load(ctx, "dev")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want %q, got %v", tc.want, err)
			}
		})
	}
}

func TestBadJoin(t *testing.T) {
	ctx := cdkContext(t)
	var v any
	_ = json.Unmarshal([]byte(`[{"name":"x","datasets":["clickstream","nope"],"on":["customer_id"]},{"name":"y","datasets":["clickstream","orders"],"on":["event_type"]},`+
		`{"name":"orders_quarantine","datasets":["clickstream","orders"],"on":["customer_id"]},`+
		`{"name":"clickstream_raw","datasets":["clickstream","orders"],"on":["customer_id"]},`+
		`{"name":"landing_orders","datasets":["clickstream","orders"],"on":["customer_id"]}]`), &v)
	ctx[KeyJoins] = v
	_, err := Load(ctx, "dev")
	for _, w := range []string{`joins[x].datasets[1]: "nope" is not a declared dataset`, `joins[y].on: "event_type" is not a string column of dataset "orders"`,
		`joins[orders_quarantine].name: "orders_quarantine" clashes with a dataset or a table name: names ending in _raw, _daily or _quarantine are the datasets' own tables, names starting with landing_ the landing crawler's`,
		`joins[clickstream_raw].name: "clickstream_raw" clashes`, `joins[landing_orders].name: "landing_orders" clashes`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in %v", w, err)
		}
	}
}

func TestLoadAllReportsEveryEnvironment(t *testing.T) {
	ctx := cdkContext(t)
	envs := ctx[KeyEnvironments].(map[string]any)
	envs["dev"].(map[string]any)["shard_count"] = 0.0
	envs["prod"].(map[string]any)["retention_period"] = 1.0
	_, err := LoadAll(ctx, []string{"dev", "prod"})
	if err == nil || !strings.Contains(err.Error(), "environments.dev.shard_count") || !strings.Contains(err.Error(), "environments.prod.retention_period") {
		t.Errorf("got %v", err)
	}
}

// withDatasets returns the cdk.json context with the datasets replaced (and
// the joins removed, so they do not refer to missing datasets).
func withDatasets(t *testing.T, datasets string) Context {
	t.Helper()
	ctx := cdkContext(t)
	var v any
	if err := json.Unmarshal([]byte(datasets), &v); err != nil {
		t.Fatalf("bad test datasets %s: %v", datasets, err)
	}
	ctx[KeyDatasets] = v
	delete(ctx, KeyJoins)
	return ctx
}

// ds is a valid one-dataset declaration "a" with extra columns appended.
func ds(extraColumns string, extraKeys string) string {
	if extraColumns != "" {
		extraColumns = "," + extraColumns
	}
	if extraKeys != "" {
		extraKeys = "," + extraKeys
	}
	return `[{"name":"a","event_time_field":"t","key":["id"]` + extraKeys + `,"columns":[{"name":"id","type":"string","required":true},{"name":"t","type":"timestamp","required":true}` + extraColumns + `]}]`
}

// TestDatasetProblemsExact: each bad dataset declaration and the exact,
// complete list of problems it produces: named by dataset and column, with
// a "did you mean" for typos at every depth and no knock-on problems.
func TestDatasetProblemsExact(t *testing.T) {
	cases := []struct {
		name     string
		datasets string
		want     []string
	}{
		{"typo in allowed", ds(`{"name":"status","type":"string","alowed":["a","b"]}`, ""), []string{
			`datasets[a].columns[status].alowed: unknown key (did you mean "allowed"?); allowed keys: allowed, description, max, min, name, required, type`}},
		{"typo in required", ds(`{"name":"amount","type":"double","requird":true}`, ""), []string{
			`datasets[a].columns[amount].requird: unknown key (did you mean "required"?); allowed keys: allowed, description, max, min, name, required, type`}},
		{"wrong JSON type in a column", ds(`{"name":"amount","type":"double","min":"zero"}`, ""), []string{
			`datasets[a].columns[amount].min: "zero" is not a valid number`}},
		{"wrong JSON type of required, no knock-on key error", `[{"name":"a","event_time_field":"t","key":["id"],"columns":[{"name":"id","type":"string","required":"yes"},{"name":"t","type":"timestamp","required":true}]}]`, []string{
			`datasets[a].columns[id].required: "yes" is not a valid boolean (true or false)`}},
		{"columns not a list", `[{"name":"a","event_time_field":"t","key":["t"],"columns":{"t":"timestamp"}}]`, []string{
			`datasets[a].columns: must be a list of objects, got {"t":"timestamp"}`}},
		{"column not an object", ds(`"amount"`, ""), []string{
			`datasets[a].columns[2]: must be a JSON object, got "amount"`}},
		{"missing event_time_field", `[{"name":"a","key":["id"],"columns":[{"name":"id","type":"string","required":true},{"name":"t","type":"timestamp","required":true}]}]`, []string{
			`datasets[a].event_time_field: missing: name the required timestamp or date column that decides a record's dt= partition (declared columns: id, t)`}},
		{"type typo has no min/max knock-on", ds(`{"name":"amount","type":"integer","min":0,"max":10}`, ""), []string{
			`datasets[a].columns[amount].type: "integer" is not a supported type: use one of string, bigint, double, boolean, timestamp, date`}},
		{"type typo on the event time has no knock-on", `[{"name":"a","event_time_field":"t","key":["t"],"columns":[{"name":"t","type":"datetime","required":true}]}]`, []string{
			`datasets[a].columns[t].type: "datetime" is not a supported type: use one of string, bigint, double, boolean, timestamp, date`}},
		{"missing type", ds(`{"name":"amount"}`, ""), []string{
			`datasets[a].columns[amount].type: missing: use one of string, bigint, double, boolean, timestamp, date`}},
		{"column without a name is named by index", ds(`{"type":"string"}`, ""), []string{
			`datasets[a].columns[2].name: missing: every column needs a name (1-64 lowercase letters, digits and underscores)`}},
		{"reserved column name", ds(`{"name":"select","type":"string"}`, ""), []string{
			`datasets[a].columns[select].name: "select" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "select_value"`}},
		{"reserved column name date", ds(`{"name":"date","type":"date"}`, ""), []string{
			`datasets[a].columns[date].name: "date" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "event_date"`}},
		{"reserved dataset name", `[{"name":"order","event_time_field":"t","key":["t"],"columns":[{"name":"t","type":"timestamp","required":true}]}]`, []string{
			`datasets[order].name: "order" is an Athena (Trino/Hive) reserved word: as a dataset (table) name it breaks the generated table DDL and named queries; choose another name, e.g. "order_id"`}},
		{"group by a non-string", ds(`{"name":"n","type":"bigint"}`, `"group_by":["n"]`), []string{
			`datasets[a].group_by[0]: "n" is a bigint column: group by string columns only`}},
		{"allowed on a number", ds(`{"name":"n","type":"bigint","allowed":["1"]}`, ""), []string{
			`datasets[a].columns[n].allowed: is set on a bigint column: allowed values apply to string columns only`}},
		{"min above max", ds(`{"name":"n","type":"double","min":5,"max":1}`, ""), []string{
			`datasets[a].columns[n].min: 5 is greater than max 1`}},
		{"duplicate column is named by index", ds(`{"name":"id","type":"string"}`, ""), []string{
			`datasets[a].columns[2].name: "id" is declared twice`}},
		{"unknown key in a dataset", ds("", `"clasification":"internal"`), []string{
			`datasets[a].clasification: unknown key (did you mean "classification"?); allowed keys: classification, columns, description, event_time_field, freshness_hours, group_by, key, key_buckets, name, partitioning, timezone`}},
		{"unknown timezone", ds("", `"timezone":"Europe/Atlantis"`), []string{
			`datasets[a].timezone: "Europe/Atlantis" is not an IANA time zone name: use e.g. UTC, Europe/Berlin, America/New_York (offset-less timestamps are read in it)`}},
		{"local is not a zone", ds("", `"timezone":"Local"`), []string{`datasets[a].timezone: "Local" is not an IANA time zone name: use e.g. UTC, Europe/Berlin, America/New_York (offset-less timestamps are read in it)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(withDatasets(t, tc.datasets), "dev")
			if err == nil {
				t.Fatalf("no error for %s", tc.datasets)
			}
			if got := err.(*Error).Problems; strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestNestedObjectProblemsExact: unknown keys in every nested object of an
// environment block, of a join and of the delivery block get a "did you mean".
func TestNestedObjectProblemsExact(t *testing.T) {
	cases := []struct {
		name, block, want string
	}{
		{"lifecycle", block(`"lifecycle":{"raw_glacer_days":100}`), `environments.dev.lifecycle.raw_glacer_days: unknown key (did you mean "raw_glacier_days"?)`},
		{"dms", block(`"dms":{"enabeld":true}`), `environments.dev.dms.enabeld: unknown key (did you mean "enabled"?)`},
		{"quicksight", block(`"quicksight":{"principal":"x"}`), `environments.dev.quicksight.principal: unknown key (did you mean "principal_arn"?)`},
		{"redshift", block(`"redshift":{"nmae":"x"}`), `environments.dev.redshift.nmae: unknown key (did you mean "name"?)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(withDev(t, tc.block), "dev")
			if err == nil || len(err.(*Error).Problems) != 1 || !strings.HasPrefix(err.(*Error).Problems[0], tc.want) {
				t.Errorf("want exactly one problem starting %q, got %v", tc.want, err)
			}
		})
	}
	t.Run("join", func(t *testing.T) {
		ctx := cdkContext(t)
		var v any
		_ = json.Unmarshal([]byte(`[{"name":"customer_activity","datsets":["clickstream","orders"],"on":["customer_id"]}]`), &v)
		ctx[KeyJoins] = v
		_, err := Load(ctx, "dev")
		want := `joins[customer_activity].datsets: unknown key (did you mean "datasets"?); allowed keys: datasets, description, name, on`
		if err == nil || strings.Join(err.(*Error).Problems, "\n") != want {
			t.Errorf("want %q, got %v", want, err)
		}
	})
	t.Run("reserved join name", func(t *testing.T) {
		ctx := cdkContext(t)
		var v any
		_ = json.Unmarshal([]byte(`[{"name":"union","datasets":["clickstream","orders"],"on":["customer_id"]}]`), &v)
		ctx[KeyJoins] = v
		_, err := Load(ctx, "dev")
		want := `joins[union].name: "union" is an Athena (Trino/Hive) reserved word: as a join (table) name it breaks the generated table DDL and named queries; choose another name, e.g. "union_value"`
		if err == nil || strings.Join(err.(*Error).Problems, "\n") != want {
			t.Errorf("want %q, got %v", want, err)
		}
	})
	t.Run("delivery stage", func(t *testing.T) {
		ctx := cdkContext(t)
		d := ctx[KeyPipeline].(map[string]any)
		d["stages"].([]any)[1].(map[string]any)["aproval"] = true
		_, err := LoadPipeline(ctx)
		want := `delivery.stages[prod].aproval: unknown key (did you mean "approval"?); allowed keys: account, approval, env`
		if err == nil || strings.Join(err.(*Error).Problems, "\n") != want {
			t.Errorf("want %q, got %v", want, err)
		}
	})
}

// TestBucketNamesUniquePerAccount: S3 names are global. Derived names end
// in the account id when the account is pinned (in the block or by a
// pipeline stage); explicit names are kept; without an account the seed's
// pattern stays (make deploy refuses the shipped placeholder project then).
func TestBucketNamesUniquePerAccount(t *testing.T) {
	cases := []struct {
		name, block        string
		raw, proc, curated string
	}{
		{"no account: the seed's pattern", block(""), "data-pipeline-raw-dev", "data-pipeline-processed-dev", "data-pipeline-curated-dev"},
		{"pinned account", block(`"account":"123456789012"`), "data-pipeline-raw-dev-123456789012", "data-pipeline-processed-dev-123456789012", "data-pipeline-curated-dev-123456789012"},
		{"explicit names are kept", block(`"account":"123456789012","raw_bucket_name":"my-raw"`), "my-raw", "data-pipeline-processed-dev-123456789012", "data-pipeline-curated-dev-123456789012"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(withDev(t, tc.block), "dev")
			if err != nil {
				t.Fatal(err)
			}
			if c.RawBucketName != tc.raw || c.ProcessedBucketName != tc.proc || c.CuratedBucketName != tc.curated {
				t.Errorf("buckets %s, %s, %s; want %s, %s, %s", c.RawBucketName, c.ProcessedBucketName, c.CuratedBucketName, tc.raw, tc.proc, tc.curated)
			}
		})
	}
	t.Run("longest names still fit S3's 63 characters", func(t *testing.T) {
		_, err := Load(withDev(t, block(`"project":"abcdefghijklmnopqrst","environment":"abcdefghijklmno","account":"123456789012"`)), "dev")
		if err != nil {
			t.Error(err)
		}
	})
	t.Run("pipeline stage account", func(t *testing.T) {
		p, err := LoadPipeline(cdkContext(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Envs[0].RawBucketName; got != "data-pipeline-raw-dev-222222222222" {
			t.Errorf("pipeline dev raw bucket = %s, want the stage account in the name", got)
		}
		if got := p.Envs[1].RawBucketName; got != "data-pipeline-raw-prod" {
			t.Errorf("pipeline prod raw bucket = %s, want the explicit name of cdk.json", got)
		}
	})
	if PlaceholderProject != cdkContext(t)[KeyEnvironments].(map[string]any)["dev"].(map[string]any)["project"] {
		t.Error("PlaceholderProject is not the project cdk.json ships (make deploy refuses it)")
	}
}
