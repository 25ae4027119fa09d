package config

import (
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/example/datalake/dataset"
)

// Regions lists the commercial AWS regions (partition aws) this app accepts.
var Regions = []string{
	"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
	"eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
}

// maxShards is the default Kinesis shard quota per account and region:
// 20,000 in us-east-1, us-west-2 and eu-west-1, 1,000 elsewhere
// (streams/latest/dev/service-sizes-and-limits.html). Beyond it a quota
// increase is needed, so synth refuses instead of failing at deploy.
func maxShards(region string) int {
	switch region {
	case "us-east-1", "us-west-2", "eu-west-1":
		return 20000
	}
	return 1000
}

// WorkerTypes maps each Glue worker type to the most workers a job may
// request: the Glue API allows 299 G.1X and 149 G.2X workers (299 DPUs);
// larger types are scaled to the same DPU ceiling.
var WorkerTypes = map[string]int{
	"G.1X": 299, "G.2X": 149, "G.4X": 74, "G.8X": 37, "G.12X": 24, "G.16X": 18,
	"R.1X": 299, "R.2X": 149, "R.4X": 74, "R.8X": 37,
}

// flexWorkerTypes are the worker types Glue Flex execution supports.
var flexWorkerTypes = []string{"G.1X", "G.2X"}

// GlueVersions accepted for the ETL jobs (5.0 or newer).
var GlueVersions = []string{"5.0", "5.1", "6.0"}

// LogRetentionValues are the retention periods CloudWatch Logs accepts.
var LogRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var (
	projectRe    = regexp.MustCompile(`^[a-z][a-z0-9-]{1,18}[a-z0-9]$`)
	envRe        = regexp.MustCompile(`^[a-z][a-z0-9-]{0,13}[a-z0-9]$|^[a-z]$`)
	bucketRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	athenaDbRe   = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)
	workgroupRe  = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,128}$`)
	accountRe    = regexp.MustCompile(`^[0-9]{12}$`)
	rateRe       = regexp.MustCompile(`^rate\(([0-9]+) (minute|minutes|hour|hours|day|days)\)$`)
	cronRe       = regexp.MustCompile(`^cron\(([^ ()]+ ){5}[^ ()]+\)$`)
	ipRe         = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)
	prefixListRe = regexp.MustCompile(`^pl-[0-9a-f]{8,17}$`)
)

func (c *Config) validate(path string) []string {
	e := &c.Environment
	var p []string
	add := func(key, format string, args ...any) {
		p = append(p, fmt.Sprintf("%s.%s: "+format, append([]any{path, key}, args...)...))
	}
	required := func(key, v string) bool {
		if v == "" {
			add(key, "missing: this key is required")
			return false
		}
		return true
	}

	if required("region", e.Region) && !slices.Contains(Regions, e.Region) {
		add("region", "%q is not an AWS region: use one of %s", e.Region, strings.Join(Regions, ", "))
	}
	if required("project", e.Project) && !projectRe.MatchString(e.Project) {
		add("project", "%q is not allowed: use 3-20 lowercase letters, digits and hyphens, starting with a letter (it prefixes bucket and stack names)", e.Project)
	}
	if !envRe.MatchString(e.Environment) {
		add("environment", "%q is not allowed: use 1-15 lowercase letters, digits and hyphens, starting with a letter", e.Environment)
	}
	for _, b := range []struct{ key, name string }{
		{"raw_bucket_name", e.RawBucketName},
		{"processed_bucket_name", e.ProcessedBucketName},
		{"curated_bucket_name", e.CuratedBucketName},
	} {
		if msg := bucketProblem(b.name); msg != "" {
			add(b.key, "%q is not a valid S3 bucket name: %s", b.name, msg)
		}
	}
	if e.RawBucketName == e.ProcessedBucketName || e.RawBucketName == e.CuratedBucketName || e.ProcessedBucketName == e.CuratedBucketName {
		add("raw_bucket_name", "the raw, processed and curated bucket names must differ (got %q, %q, %q)", e.RawBucketName, e.ProcessedBucketName, e.CuratedBucketName)
	}

	switch e.StreamMode {
	case StreamProvisioned, StreamOnDemand:
	default:
		add("stream_mode", "%q is not allowed: use %q or %q", e.StreamMode, StreamProvisioned, StreamOnDemand)
	}
	if limit := maxShards(e.Region); e.ShardCount < 1 || e.ShardCount > limit {
		add("shard_count", "%d is out of range: use 1..%d (the default Kinesis shard quota in %s)", e.ShardCount, limit, e.Region)
	}
	if e.RetentionPeriod < 24 || e.RetentionPeriod > 8760 {
		add("retention_period", "%d hours is out of range: Kinesis keeps records 24..8760 hours", e.RetentionPeriod)
	}
	if max, ok := WorkerTypes[e.WorkerType]; !ok {
		add("worker_type", "%q is not a Glue worker type for Spark jobs: use one of %s", e.WorkerType, strings.Join(sortedKeysOf(WorkerTypes), ", "))
	} else if e.NumberOfWorkers < 2 || e.NumberOfWorkers > max {
		add("number_of_workers", "%d is out of range for worker type %s: use 2..%d", e.NumberOfWorkers, e.WorkerType, max)
	}
	if !athenaDbRe.MatchString(e.DataCatalogDatabaseName) {
		add("data_catalog_database_name", "%q is not allowed: Athena reads only database names of lowercase letters, digits and underscores", e.DataCatalogDatabaseName)
	}
	if !athenaDbRe.MatchString(e.AthenaDatabaseName) {
		add("athena_database_name", "%q is not allowed: Athena database names take lowercase letters, digits and underscores only", e.AthenaDatabaseName)
	}
	if e.AthenaDatabaseName == e.DataCatalogDatabaseName {
		add("athena_database_name", "%q is also the data_catalog_database_name: use two databases (tables vs analyst views)", e.AthenaDatabaseName)
	}
	if !workgroupRe.MatchString(e.AthenaWorkgroupName) {
		add("athena_workgroup_name", "%q is not allowed: use 1-128 letters, digits, '.', '_' and '-'", e.AthenaWorkgroupName)
	}
	if Bool(e.EnableCloudwatchAlarms) || e.AlarmEmailAddress != "" {
		if a, err := mail.ParseAddress(e.AlarmEmailAddress); err != nil || a.Address != e.AlarmEmailAddress || !strings.Contains(a.Address[strings.Index(a.Address, "@"):], ".") {
			add("alarm_email_address", "%q is not an email address like alerts@example.com (required while enable_cloudwatch_alarms is true)", e.AlarmEmailAddress)
		}
	}

	if e.Account != "" && !accountRe.MatchString(e.Account) {
		add("account", "%q is not an AWS account id: use 12 digits", e.Account)
	}
	for _, kv := range []struct{ key, v string }{{"owner", e.Owner}, {"cost_center", e.CostCenter}} {
		if kv.v == "" || len(kv.v) > 256 {
			add(kv.key, "%q is not allowed: tag values take 1-256 characters", kv.v)
		}
	}
	if e.AllowDestroy && e.IsProduction() {
		add("allow_destroy", "true is refused for a production environment: its data buckets and keys are always retained")
	}
	for _, cl := range []struct{ key, v string }{
		{"raw_classification", e.RawClassification},
		{"processed_classification", e.ProcessedClassification},
		{"curated_classification", e.CuratedClassification},
	} {
		if !slices.Contains(dataset.Classifications, cl.v) {
			add(cl.key, "%q is not allowed: use one of %s", cl.v, strings.Join(dataset.Classifications, ", "))
		}
	}
	p = append(p, e.Lifecycle.problems(path+".lifecycle")...)

	if _, n, err := net.ParseCIDR(e.VpcCidr); err != nil {
		add("vpc_cidr", "%q is not a CIDR block like 10.40.0.0/16", e.VpcCidr)
	} else if ones, _ := n.Mask.Size(); ones < 16 || ones > 22 {
		add("vpc_cidr", "%q has a /%d prefix: use /16../22 (room for two private subnets per AZ)", e.VpcCidr, ones)
	}
	if e.FirehoseBufferSeconds < 60 || e.FirehoseBufferSeconds > 900 {
		add("firehose_buffer_seconds", "%d is out of range: use 60..900 (dynamic partitioning needs at least 60 s)", e.FirehoseBufferSeconds)
	}
	if e.FirehoseBufferMB < 64 || e.FirehoseBufferMB > 128 {
		add("firehose_buffer_mb", "%d is out of range: use 64..128 MiB (dynamic partitioning needs at least 64 MiB)", e.FirehoseBufferMB)
	}
	if e.ApiRateLimit < 1 || e.ApiRateLimit > 10000 {
		add("api_rate_limit", "%d is out of range: use 1..10000 requests per second (the account default)", e.ApiRateLimit)
	}
	if e.ApiBurstLimit < e.ApiRateLimit || e.ApiBurstLimit > 10000 {
		add("api_burst_limit", "%d is out of range: use api_rate_limit (%d)..10000", e.ApiBurstLimit, e.ApiRateLimit)
	}
	if !slices.Contains(GlueVersions, e.GlueVersion) {
		add("glue_version", "%q is not supported: use one of %s", e.GlueVersion, strings.Join(GlueVersions, ", "))
	}
	if e.JobTimeoutMinutes < 1 || e.JobTimeoutMinutes > 2880 {
		add("job_timeout_minutes", "%d is out of range: use 1..2880", e.JobTimeoutMinutes)
	}
	if r := Int(e.JobMaxRetries); r < 0 || r > 10 {
		add("job_max_retries", "%d is out of range: use 0..10", r)
	}
	if _, known := WorkerTypes[e.WorkerType]; known && Bool(e.UseFlex) && !slices.Contains(flexWorkerTypes, e.WorkerType) {
		add("use_flex", "true needs worker_type G.1X or G.2X (Glue Flex runs only those), got %q", e.WorkerType)
	}
	for _, kv := range []struct{ key, v string }{{"etl_schedule", e.EtlSchedule}, {"crawler_schedule", e.CrawlerSchedule}} {
		if msg := scheduleProblem(kv.v); msg != "" {
			add(kv.key, "%q is not a schedule expression: %s", kv.v, msg)
		}
	}
	if e.AthenaBytesScannedCutoffMB < 10 {
		add("athena_bytes_scanned_cutoff_mb", "%d is below Athena's minimum of 10 MB", e.AthenaBytesScannedCutoffMB)
	}
	if !slices.Contains(LogRetentionValues, e.LogRetentionDays) {
		add("log_retention_days", "%d is not a CloudWatch Logs retention: use one of %s", e.LogRetentionDays, joinInts(LogRetentionValues))
	}
	if e.MonthlyBudgetUsd < 1 {
		add("monthly_budget_usd", "%d is not allowed: use a whole number of US dollars >= 1", e.MonthlyBudgetUsd)
	}
	if e.ValidatorReservedConcurrency < 0 || e.ValidatorReservedConcurrency > 1000 {
		add("validator_reserved_concurrency", "%d is out of range: use 0 (no reservation, the default) or 1..1000; AWS keeps 100 executions of the account unreserved", e.ValidatorReservedConcurrency)
	}
	switch e.AuditObjectLockMode {
	case ObjectLockOff, ObjectLockGovernance, ObjectLockCompliance:
	default:
		add("audit_object_lock_mode", "%q is not allowed: use %q, %q or %q", e.AuditObjectLockMode, ObjectLockOff, ObjectLockGovernance, ObjectLockCompliance)
	}
	if e.AuditObjectLockDays < 1 || e.AuditObjectLockDays > 36500 {
		add("audit_object_lock_days", "%d is out of range: use 1..36500 days", e.AuditObjectLockDays)
	}
	if e.AuditObjectLockMode != ObjectLockOff && e.AllowDestroy {
		add("audit_object_lock_mode", "%q cannot be combined with allow_destroy: locked audit objects cannot be deleted until their retention ends; use \"off\"", e.AuditObjectLockMode)
	}
	if e.S3PrefixListID != "" && !prefixListRe.MatchString(e.S3PrefixListID) {
		add("s3_prefix_list_id", "%q is not a managed prefix list id like pl-68a54001 (aws ec2 describe-managed-prefix-lists --filters Name=prefix-list-name,Values=com.amazonaws.%s.s3)", e.S3PrefixListID, e.Region)
	}
	if e.CreateConfigRecorder && !e.EnableConfigRules {
		add("create_config_recorder", "true needs enable_config_rules: true (the recorder only serves the rules)")
	}
	if e.ApiQuotaPerDay < 0 {
		add("api_quota_per_day", "%d is negative: use 0 (no quota) or a number of requests per day", e.ApiQuotaPerDay)
	}
	if e.EmrMaxVcpu < 1 || e.EmrMaxVcpu > 4000 {
		add("emr_max_vcpu", "%d is out of range: use 1..4000", e.EmrMaxVcpu)
	}
	if e.EmrMaxMemoryGB < 2 || e.EmrMaxMemoryGB > 16000 {
		add("emr_max_memory_gb", "%d is out of range: use 2..16000", e.EmrMaxMemoryGB)
	}
	if e.EmrIdleTimeoutMinutes < 1 || e.EmrIdleTimeoutMinutes > 10080 {
		add("emr_idle_timeout_minutes", "%d is out of range: use 1..10080", e.EmrIdleTimeoutMinutes)
	}
	if !emrReleaseRe.MatchString(e.EmrReleaseLabel) {
		add("emr_release_label", "%q is not an EMR release label like emr-7.5.0", e.EmrReleaseLabel)
	}
	if e.EnableEMR && !Bool(e.EnableVPC) {
		add("enable_emr", "true needs enable_vpc: true (the application runs in the private network)")
	}
	if e.TargetFileMB < 128 || e.TargetFileMB > 1024 {
		add("target_file_mb", "%d is out of range: use 128..1024 (the seed's 128 MB-1 GB files)", e.TargetFileMB)
	}
	for _, kv := range []struct {
		key string
		v   int
	}{{"quality_lookback_days", e.QualityLookbackDays}, {"curated_lookback_days", e.CuratedLookbackDays}} {
		if kv.v < 0 || kv.v > 366 {
			add(kv.key, "%d is out of range: use 0..366", kv.v)
		}
	}
	if e.SnapshotRetentionDays < 1 || e.SnapshotRetentionDays > 3650 {
		add("snapshot_retention_days", "%d is out of range: use 1..3650", e.SnapshotRetentionDays)
	}
	if e.SnapshotsToRetain < 1 || e.SnapshotsToRetain > 1000 {
		add("snapshots_to_retain", "%d is out of range: use 1..1000", e.SnapshotsToRetain)
	}
	if minDays := (e.JobTimeoutMinutes + 24*60 - 1) / (24 * 60); e.OrphanFileRetentionDays < max(1, minDays) || e.OrphanFileRetentionDays > 3650 {
		add("orphan_file_retention_days", "%d is out of range: use %d..3650 (at least 1 day and longer than job_timeout_minutes %d, so a running job's files are never orphans)",
			e.OrphanFileRetentionDays, max(1, minDays), e.JobTimeoutMinutes)
	}
	if e.ApiLatencyP99Ms < 50 || e.ApiLatencyP99Ms > 29000 {
		add("api_latency_p99_ms", "%d is out of range: use 50..29000 (API Gateway times out at 29 s)", e.ApiLatencyP99Ms)
	}
	if e.Api5xxThreshold < 1 {
		add("api_5xx_threshold", "%d is not allowed: use >= 1", e.Api5xxThreshold)
	}
	if e.AthenaDailyScannedGB < 1 {
		add("athena_daily_scanned_gb", "%d is not allowed: use >= 1", e.AthenaDailyScannedGB)
	}
	p = append(p, c.dmsProblems(path)...)
	if q := e.QuickSight.PrincipalArn; q != "" && !quicksightRe.MatchString(q) {
		add("quicksight.principal_arn", "%q is not a QuickSight user or group ARN (arn:aws:quicksight:REGION:ACCOUNT:user/NAMESPACE/NAME)", q)
	}
	if r := e.Redshift; r.Type != "serverless" && r.Type != "provisioned" {
		add("redshift.type", "%q is not allowed: use serverless or provisioned", r.Type)
	}
	if r := e.Redshift; r.Enabled || r.Name != "" {
		if !redshiftNameRe.MatchString(r.Name) {
			add("redshift.name", "%q is not a Redshift namespace or cluster id: 1-63 lowercase letters, digits and hyphens", r.Name)
		}
	}
	p = append(p, c.joinProblems()...)
	p = append(p, c.replicationProblems(path)...)
	return p
}

var (
	emrReleaseRe   = regexp.MustCompile(`^emr-[0-9]+\.[0-9]+\.[0-9]+$`)
	quicksightRe   = regexp.MustCompile(`^arn:aws:quicksight:[a-z0-9-]+:[0-9]{12}:(user|group)/[A-Za-z0-9._@+=,-]+/[A-Za-z0-9._@+=,/-]+$`)
	redshiftNameRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	dmsEngines     = []string{"mysql", "postgres", "aurora", "aurora-postgresql", "oracle", "sqlserver", "mariadb"}
)

// dmsProblems checks the dms block: its values whenever the block is
// written (a disabled block with a typo is still a typo), and the keys a
// replication needs when it is enabled.
func (c *Config) dmsProblems(path string) []string {
	d := c.DMS
	if !d.Enabled && !c.anySet("dms.") {
		return nil
	}
	var p []string
	add := func(key, format string, args ...any) {
		p = append(p, fmt.Sprintf("%s.dms.%s: "+format, append([]any{path, key}, args...)...))
	}
	if d.Enabled {
		if !Bool(c.EnableVPC) {
			add("enabled", "true needs enable_vpc: true (the replication instance runs in the private network)")
		}
		if d.SourceSecretName == "" {
			add("source_secret_name", "missing: name the Secrets Manager secret with the source connection")
		}
		if d.SourceDatabase == "" {
			add("source_database", "missing: name the database to replicate")
		}
		if len(d.Tables) == 0 {
			add("tables", "is empty: list the tables to replicate (each a declared dataset)")
		}
	}
	if (d.Enabled || d.SourceEngine != "") && !slices.Contains(dmsEngines, d.SourceEngine) {
		add("source_engine", "%q is not allowed: use one of %s", d.SourceEngine, strings.Join(dmsEngines, ", "))
	}
	if d.SourceSchema == "" {
		add("source_schema", `"" is not allowed: name the schema that holds the tables (default public)`)
	}
	if d.Target != "kinesis" && d.Target != "s3" {
		add("target", "%q is not allowed: use kinesis or s3", d.Target)
	}
	if !strings.HasPrefix(d.InstanceClass, "dms.") {
		add("instance_class", "%q is not a DMS instance class like dms.t3.medium", d.InstanceClass)
	}
	if d.AllocatedStorageGB < 5 || d.AllocatedStorageGB > 6144 {
		add("allocated_storage_gb", "%d is out of range: use 5..6144", d.AllocatedStorageGB)
	}
	for i, t := range d.Tables {
		if _, ok := c.Dataset(t); !ok {
			add(fmt.Sprintf("tables[%d]", i), "%q is not a declared dataset: the table name is the dataset name", t)
		}
	}
	return p
}

// anySet reports whether the environment block sets a key under prefix.
func (c *Config) anySet(prefix string) bool {
	for k := range c.set {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// bucketProblem returns why S3 would refuse a bucket name, or "".
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func bucketProblem(name string) string {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Sprintf("it has %d characters, S3 takes 3..63", len(name))
	case !bucketRe.MatchString(name):
		return "use lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
	case strings.Contains(name, ".."):
		return "two adjacent periods are not allowed"
	case ipRe.MatchString(name):
		return "a name formatted as an IP address is not allowed"
	case strings.HasPrefix(name, "xn--"), strings.HasPrefix(name, "sthree-"), strings.HasPrefix(name, "amzn-s3-demo-"):
		return "the prefixes xn--, sthree- and amzn-s3-demo- are reserved"
	case strings.HasSuffix(name, "-s3alias"), strings.HasSuffix(name, "--ol-s3"), strings.HasSuffix(name, ".mrap"), strings.HasSuffix(name, "--x-s3"), strings.HasSuffix(name, "--table-s3"):
		return "the suffixes -s3alias, --ol-s3, .mrap, --x-s3 and --table-s3 are reserved"
	}
	return ""
}

func (c *Config) joinProblems() []string {
	var p []string
	names := map[string]bool{}
	for _, d := range c.Datasets {
		names[d.Name] = true
	}
	for i, j := range c.Joins {
		path := fmt.Sprintf("%s[%s]", KeyJoins, dataset.Label(j.Name, i))
		if names[j.Name] {
			path = fmt.Sprintf("%s[%d]", KeyJoins, i)
		}
		if !regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`).MatchString(j.Name) {
			p = append(p, fmt.Sprintf("%s.name: %q is not valid: use lowercase letters, digits and underscores, starting with a letter", path, j.Name))
		} else if msg := dataset.ReservedWordProblem(j.Name, "join (table) name"); msg != "" {
			p = append(p, fmt.Sprintf("%s.name: %s", path, msg))
		}
		// A join is a table of the catalog database, next to <dataset>,
		// <dataset>_raw, <dataset>_daily and the landing crawler's
		// landing_* tables; <dataset>_quarantine is the analysts' name.
		if names[j.Name] || strings.HasSuffix(j.Name, "_raw") || strings.HasSuffix(j.Name, "_daily") ||
			strings.HasSuffix(j.Name, "_quarantine") || strings.HasPrefix(j.Name, "landing_") {
			p = append(p, fmt.Sprintf("%s.name: %q clashes with a dataset or a table name: names ending in _raw, _daily or _quarantine are the datasets' own tables, names starting with landing_ the landing crawler's", path, j.Name))
		}
		names[j.Name] = true
		if len(j.Datasets) != 2 {
			p = append(p, fmt.Sprintf("%s.datasets: has %d entries: a join combines exactly two datasets", path, len(j.Datasets)))
			continue
		}
		if len(j.On) == 0 {
			p = append(p, fmt.Sprintf("%s.on: is empty: name the columns both datasets share", path))
		}
		for k, dn := range j.Datasets {
			d, ok := c.Dataset(dn)
			if !ok {
				p = append(p, fmt.Sprintf("%s.datasets[%d]: %q is not a declared dataset", path, k, dn))
				continue
			}
			for _, col := range j.On {
				if cc, ok := d.Column(col); !ok || cc.Type != dataset.String {
					p = append(p, fmt.Sprintf("%s.on: %q is not a string column of dataset %q", path, col, dn))
				}
			}
		}
	}
	return p
}

func (l Lifecycle) problems(path string) []string {
	var p []string
	add := func(key, format string, args ...any) {
		p = append(p, fmt.Sprintf("%s.%s: "+format, append([]any{path, key}, args...)...))
	}
	nonNeg := map[string]*int{
		"raw_intelligent_tiering_days":           l.RawIntelligentTieringDays,
		"raw_glacier_days":                       l.RawGlacierDays,
		"raw_expiration_days":                    l.RawExpirationDays,
		"processed_intelligent_tiering_days":     l.ProcessedIntelligentTieringDays,
		"curated_intelligent_tiering_days":       l.CuratedIntelligentTieringDays,
		"noncurrent_version_expiration_days":     l.NoncurrentVersionExpirationDays,
		"abort_incomplete_multipart_upload_days": l.AbortIncompleteMultipartUploadDays,
		"access_log_expiration_days":             l.AccessLogExpirationDays,
		"athena_results_expiration_days":         l.AthenaResultsExpirationDays,
	}
	for _, k := range sortedKeysOf(nonNeg) {
		if v := Int(nonNeg[k]); v < 0 {
			add(k, "%d is negative: use a number of days >= 0", v)
		}
	}
	it, gl, ex := Int(l.RawIntelligentTieringDays), Int(l.RawGlacierDays), Int(l.RawExpirationDays)
	if gl > 0 && gl <= it {
		add("raw_glacier_days", "%d must be later than raw_intelligent_tiering_days (%d): transitions go in increasing order", gl, it)
	}
	if ex > 0 && ex <= it {
		add("raw_expiration_days", "%d must be later than raw_intelligent_tiering_days (%d)", ex, it)
	}
	// Glacier Flexible Retrieval bills 90 days minimum: expiring earlier pays
	// for storage that is never used, which is almost always a mistake.
	if gl > 0 && ex > 0 && ex < gl+90 {
		add("raw_expiration_days", "%d is less than 90 days after raw_glacier_days (%d): Glacier bills 90 days minimum; use >= %d or 0 to keep forever", ex, gl, gl+90)
	}
	for _, kv := range []struct {
		key string
		v   *int
	}{
		{"noncurrent_version_expiration_days", l.NoncurrentVersionExpirationDays},
		{"abort_incomplete_multipart_upload_days", l.AbortIncompleteMultipartUploadDays},
		{"access_log_expiration_days", l.AccessLogExpirationDays},
		{"athena_results_expiration_days", l.AthenaResultsExpirationDays},
	} {
		if Int(kv.v) == 0 {
			add(kv.key, "0 is not allowed: S3 needs at least 1 day")
		}
	}
	return p
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// scheduleProblem checks an EventBridge schedule expression: rate(N unit)
// with the unit's singular for 1, or cron( with exactly six fields, one of
// day-of-month and day-of-week being "?".
func scheduleProblem(v string) string {
	if m := rateRe.FindStringSubmatch(v); m != nil {
		n := m[1]
		if n == "0" || strings.HasPrefix(n, "0") {
			return "the rate must be a positive whole number"
		}
		if (n == "1") != !strings.HasSuffix(m[2], "s") {
			return "use the singular unit for 1 (rate(1 day)) and the plural otherwise (rate(2 days))"
		}
		return ""
	}
	if cronRe.MatchString(v) {
		f := strings.Fields(strings.TrimSuffix(strings.TrimPrefix(v, "cron("), ")"))
		if (f[2] == "?") == (f[4] == "?") {
			return "exactly one of day-of-month (3rd field) and day-of-week (5th field) must be ?"
		}
		return ""
	}
	return "use rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year), e.g. cron(0 2 * * ? *)"
}
