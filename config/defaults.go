package config

import "strings"

// Defaults that do not depend on other keys. The seed's values are the
// defaults where the seed gives one.
const (
	DefaultShardCount            = 2
	DefaultRetentionHours        = 24
	DefaultWorkerType            = "G.1X"
	DefaultNumberOfWorkers       = 5
	DefaultOwner                 = "data-platform"
	DefaultCostCenter            = "unassigned"
	DefaultVpcCidr               = "10.40.0.0/16"
	DefaultStreamMode            = StreamProvisioned
	DefaultFirehoseBufferSeconds = 900
	DefaultFirehoseBufferMB      = 128
	DefaultApiRateLimit          = 100
	DefaultApiBurstLimit         = 200
	DefaultGlueVersion           = "5.0"
	DefaultJobTimeoutMinutes     = 120
	DefaultJobMaxRetries         = 1
	DefaultEtlSchedule           = "cron(0 2 * * ? *)"
	DefaultCrawlerSchedule       = "cron(0 1 * * ? *)"
	DefaultAthenaCutoffMB        = 10240
	DefaultMonthlyBudgetUsd      = 100
)

// Object Lock modes of the audit bucket (audit_object_lock_mode).
const (
	ObjectLockOff        = "off"
	ObjectLockGovernance = "governance"
	ObjectLockCompliance = "compliance"
	// DefaultAuditObjectLockDays is a year: CloudTrail log files stay
	// provably unaltered for a yearly audit.
	DefaultAuditObjectLockDays = 365
)

// Stream modes.
const (
	StreamProvisioned = "provisioned"
	StreamOnDemand    = "on_demand"
)

// IsProduction reports whether the environment holds production data.
func (e *Environment) IsProduction() bool { return Bool(e.Production) }

// Prefix is ${project}-${environment}: the start of stack and resource names.
func (e *Environment) Prefix() string { return e.Project + "-" + e.Environment }

// StackName returns the CloudFormation stack name of a layer.
func (e *Environment) StackName(layer string) string { return e.Prefix() + "-" + layer }

// athenaName derives a database name Athena accepts from the seed's
// pattern: `data-pipeline` must still give a valid name, so hyphens become
// underscores.
func athenaName(parts ...string) string {
	return strings.ToLower(strings.ReplaceAll(strings.Join(parts, "_"), "-", "_"))
}

func (c *Config) applyDefaults() {
	e := &c.Environment
	if !c.set["environment"] {
		e.Environment = e.Name
	}
	if e.Production == nil {
		e.Production = ptr(e.Environment == "prod" || e.Environment == "production")
	}
	prod := e.IsProduction()
	// A key the block sets explicitly keeps its value, even zero or empty,
	// so that `shard_count: 0` is reported instead of silently replaced.
	def := func(s *string, key, v string) {
		if !c.set[key] {
			*s = v
		}
	}
	defInt := func(i *int, key string, v int) {
		if !c.set[key] {
			*i = v
		}
	}
	defPtr := func(i **int, v int) {
		if *i == nil {
			*i = ptr(v)
		}
	}
	defBool := func(b **bool, v bool) {
		if *b == nil {
			*b = ptr(v)
		}
	}
	c.deriveBucketNames()
	def(&e.DataCatalogDatabaseName, "data_catalog_database_name", athenaName(e.Project, e.Environment, "catalog"))
	def(&e.AthenaDatabaseName, "athena_database_name", athenaName(e.Project, e.Environment, "athena"))
	def(&e.AthenaWorkgroupName, "athena_workgroup_name", e.Project+"-"+e.Environment+"-workgroup")
	defInt(&e.ShardCount, "shard_count", DefaultShardCount)
	defInt(&e.RetentionPeriod, "retention_period", DefaultRetentionHours)
	def(&e.WorkerType, "worker_type", DefaultWorkerType)
	defInt(&e.NumberOfWorkers, "number_of_workers", DefaultNumberOfWorkers)
	defBool(&e.EnableCloudwatchAlarms, true)
	def(&e.Owner, "owner", DefaultOwner)
	def(&e.CostCenter, "cost_center", DefaultCostCenter)
	def(&e.RawClassification, "raw_classification", "confidential")
	def(&e.ProcessedClassification, "processed_classification", "confidential")
	def(&e.CuratedClassification, "curated_classification", "internal")

	l := &e.Lifecycle
	defPtr(&l.RawIntelligentTieringDays, 30)
	defPtr(&l.RawGlacierDays, 180)
	defPtr(&l.RawExpirationDays, 2555)
	defPtr(&l.ProcessedIntelligentTieringDays, 0)
	defPtr(&l.CuratedIntelligentTieringDays, 0)
	defPtr(&l.NoncurrentVersionExpirationDays, 90)
	defPtr(&l.AbortIncompleteMultipartUploadDays, 7)
	defPtr(&l.AccessLogExpirationDays, 90)
	defPtr(&l.AthenaResultsExpirationDays, 30)

	defBool(&e.EnableVPC, prod)
	def(&e.VpcCidr, "vpc_cidr", DefaultVpcCidr)
	def(&e.StreamMode, "stream_mode", DefaultStreamMode)
	defInt(&e.FirehoseBufferSeconds, "firehose_buffer_seconds", DefaultFirehoseBufferSeconds)
	defInt(&e.FirehoseBufferMB, "firehose_buffer_mb", DefaultFirehoseBufferMB)
	defInt(&e.ApiRateLimit, "api_rate_limit", DefaultApiRateLimit)
	defInt(&e.ApiBurstLimit, "api_burst_limit", DefaultApiBurstLimit)
	defBool(&e.EnableWAF, prod)
	def(&e.GlueVersion, "glue_version", DefaultGlueVersion)
	defInt(&e.JobTimeoutMinutes, "job_timeout_minutes", DefaultJobTimeoutMinutes)
	defPtr(&e.JobMaxRetries, DefaultJobMaxRetries)
	defBool(&e.UseFlex, !prod)
	def(&e.EtlSchedule, "etl_schedule", DefaultEtlSchedule)
	def(&e.CrawlerSchedule, "crawler_schedule", DefaultCrawlerSchedule)
	defInt(&e.AthenaBytesScannedCutoffMB, "athena_bytes_scanned_cutoff_mb", DefaultAthenaCutoffMB)
	if prod {
		defInt(&e.LogRetentionDays, "log_retention_days", 365)
	} else {
		defInt(&e.LogRetentionDays, "log_retention_days", 30)
	}
	defInt(&e.MonthlyBudgetUsd, "monthly_budget_usd", DefaultMonthlyBudgetUsd)
	defInt(&e.EmrMaxVcpu, "emr_max_vcpu", 16)
	defInt(&e.EmrMaxMemoryGB, "emr_max_memory_gb", 64)
	defInt(&e.EmrIdleTimeoutMinutes, "emr_idle_timeout_minutes", 15)
	def(&e.EmrReleaseLabel, "emr_release_label", "emr-7.5.0")
	defInt(&e.TargetFileMB, "target_file_mb", 256)
	defInt(&e.QualityLookbackDays, "quality_lookback_days", 3)
	defInt(&e.CuratedLookbackDays, "curated_lookback_days", 3)
	defBool(&e.TableMaintenance, true)
	defInt(&e.SnapshotRetentionDays, "snapshot_retention_days", 5)
	defInt(&e.SnapshotsToRetain, "snapshots_to_retain", 1)
	defInt(&e.OrphanFileRetentionDays, "orphan_file_retention_days", 3)
	defInt(&e.ApiLatencyP99Ms, "api_latency_p99_ms", 2000)
	defInt(&e.Api5xxThreshold, "api_5xx_threshold", 5)
	defInt(&e.AthenaDailyScannedGB, "athena_daily_scanned_gb", 100)
	def(&e.DMS.SourceSchema, "dms.source_schema", "public")
	def(&e.DMS.Target, "dms.target", "kinesis")
	def(&e.DMS.InstanceClass, "dms.instance_class", "dms.t3.medium")
	defInt(&e.DMS.AllocatedStorageGB, "dms.allocated_storage_gb", 50)
	def(&e.Redshift.Type, "redshift.type", "serverless")
	defBool(&e.EnableCloudTrail, true)
	if prod {
		def(&e.AuditObjectLockMode, "audit_object_lock_mode", ObjectLockGovernance)
	} else {
		def(&e.AuditObjectLockMode, "audit_object_lock_mode", ObjectLockOff)
	}
	defInt(&e.AuditObjectLockDays, "audit_object_lock_days", DefaultAuditObjectLockDays)
}

// PlaceholderProject is the project name cdk.json ships with. S3 bucket
// names are global: every clone that deploys it without an account asks for
// the same data-pipeline-raw-dev, so make deploy refuses it (Makefile).
const PlaceholderProject = "data-pipeline"

// deriveBucketNames sets the bucket names the block does not set:
// ${project}-raw-${environment} (the seed's pattern), followed by
// -${account} when the account is pinned, so that two accounts deploying
// the same project and environment never ask for the same global name.
// Explicit *_bucket_name keys are kept as written.
func (c *Config) deriveBucketNames() {
	e := &c.Environment
	suffix := ""
	if e.Account != "" {
		suffix = "-" + e.Account
	}
	for _, b := range []struct {
		name *string
		key  string
		zone string
	}{
		{&e.RawBucketName, "raw_bucket_name", "raw"},
		{&e.ProcessedBucketName, "processed_bucket_name", "processed"},
		{&e.CuratedBucketName, "curated_bucket_name", "curated"},
	} {
		if !c.set[b.key] {
			*b.name = e.Project + "-" + b.zone + "-" + e.Environment + suffix
		}
	}
}

func ptr[T any](v T) *T { return &v }
