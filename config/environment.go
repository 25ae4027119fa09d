package config

// Environment is one block of the `environments` context key in cdk.json.
// JSON keys are the seed's Terraform variable names plus our extensions.
// A zero value means "the documented default"; Load applies the defaults
// and validates the result, so code that receives an Environment can trust
// every field.
type Environment struct {
	// Name is the key of the block in `environments` (what `-c env=NAME`
	// selects). Not a JSON key.
	Name string `json:"-"`

	// --- the seed's variables ---

	// Region is the AWS region to deploy to. Required.
	Region string `json:"region"`
	// Environment names the environment in resource names and tags.
	// Default: the block's key.
	Environment string `json:"environment"`
	// Project prefixes every name. Required: 3-20 lowercase letters,
	// digits and hyphens.
	Project string `json:"project"`
	// RawBucketName default: ${project}-raw-${environment}.
	RawBucketName string `json:"raw_bucket_name"`
	// ProcessedBucketName default: ${project}-processed-${environment}.
	ProcessedBucketName string `json:"processed_bucket_name"`
	// CuratedBucketName default: ${project}-curated-${environment}.
	CuratedBucketName string `json:"curated_bucket_name"`
	// ShardCount is the number of Kinesis shards in provisioned mode.
	// Default: 2. Ignored when StreamMode is on_demand.
	ShardCount int `json:"shard_count"`
	// RetentionPeriod is the Kinesis retention in hours. Default: 24.
	RetentionPeriod int `json:"retention_period"`
	// WorkerType is the Glue worker type. Default: G.1X.
	WorkerType string `json:"worker_type"`
	// NumberOfWorkers is the Glue worker count (the maximum with auto
	// scaling). Default: 5.
	NumberOfWorkers int `json:"number_of_workers"`
	// DataCatalogDatabaseName default: ${project}_${environment}_catalog
	// with hyphens turned into underscores.
	DataCatalogDatabaseName string `json:"data_catalog_database_name"`
	// AthenaDatabaseName default: ${project}_${environment}_athena with
	// hyphens turned into underscores.
	AthenaDatabaseName string `json:"athena_database_name"`
	// AthenaWorkgroupName default: ${project}-${environment}-workgroup.
	AthenaWorkgroupName string `json:"athena_workgroup_name"`
	// EnableCloudwatchAlarms creates the alarms. Default: true.
	EnableCloudwatchAlarms *bool `json:"enable_cloudwatch_alarms"`
	// AlarmEmailAddress receives the alarm topic's email. Required when
	// alarms are enabled.
	AlarmEmailAddress string `json:"alarm_email_address"`

	// --- our extensions ---

	// Account pins the AWS account (12 digits). Default: the account of the
	// CLI credentials (sandbox); required for pipeline stages.
	Account string `json:"account"`
	// Owner and CostCenter become tags on every resource.
	// Default: "data-platform" and "unassigned".
	Owner      string `json:"owner"`
	CostCenter string `json:"cost_center"`
	// AllowDestroy lets `cdk destroy` delete data buckets and keys. It also
	// needs `-c confirm_destroy=<environment>` on the command line and is
	// refused for production environments. Default: false.
	AllowDestroy bool `json:"allow_destroy"`
	// Production marks an environment whose data is never destroyed and that
	// gets the safer defaults (VPC, WAF, no Flex, longer log retention).
	// Default: true when environment is "prod" or "production".
	Production *bool `json:"production"`

	// Data classification tags per zone. Defaults: raw confidential,
	// processed confidential, curated internal.
	RawClassification       string `json:"raw_classification"`
	ProcessedClassification string `json:"processed_classification"`
	CuratedClassification   string `json:"curated_classification"`

	// Lifecycle in days (see Lifecycle for defaults and rules).
	Lifecycle Lifecycle `json:"lifecycle"`

	// EnableVPC creates the private network for jobs and replication.
	// Default: true in production, false otherwise.
	EnableVPC *bool `json:"enable_vpc"`
	// VpcCidr is the VPC's address range. Default: 10.40.0.0/16.
	VpcCidr string `json:"vpc_cidr"`

	// StreamMode is "provisioned" (uses shard_count) or "on_demand".
	// Default: provisioned.
	StreamMode string `json:"stream_mode"`
	// FirehoseBufferSeconds and FirehoseBufferMB decide when Firehose writes
	// an object: large buffers make the large files the seed asks for.
	// Defaults: 900 s and 128 MiB (the maxima).
	FirehoseBufferSeconds int `json:"firehose_buffer_seconds"`
	FirehoseBufferMB      int `json:"firehose_buffer_mb"`

	// API throttling: steady-state requests/s and burst. Defaults: 100, 200.
	ApiRateLimit  int `json:"api_rate_limit"`
	ApiBurstLimit int `json:"api_burst_limit"`
	// EnableWAF attaches a WAF web ACL to the API. Default: true in production.
	EnableWAF *bool `json:"enable_waf"`
	// ApiQuotaPerDay caps requests per API key and day through a usage
	// plan; when set, callers also need an API key. Default: 0 (no quota,
	// IAM auth only).
	ApiQuotaPerDay int `json:"api_quota_per_day"`
	// DMS replicates a database into the lake. Default: off.
	DMS DMS `json:"dms"`

	// Glue job settings.
	// GlueVersion default: 5.0.
	GlueVersion string `json:"glue_version"`
	// JobTimeoutMinutes default: 120 (never Glue's 48-hour default).
	JobTimeoutMinutes int `json:"job_timeout_minutes"`
	// JobMaxRetries default: 1.
	JobMaxRetries *int `json:"job_max_retries"`
	// UseFlex runs jobs on Flex capacity. Default: true outside production.
	UseFlex *bool `json:"use_flex"`
	// EtlSchedule and CrawlerSchedule are EventBridge cron/rate expressions.
	// Defaults: cron(0 2 * * ? *) and cron(0 1 * * ? *).
	EtlSchedule     string `json:"etl_schedule"`
	CrawlerSchedule string `json:"crawler_schedule"`
	// EnableEMR creates the EMR Serverless application. Default: false.
	EnableEMR bool `json:"enable_emr"`
	// EmrMaxVcpu and EmrMaxMemoryGB cap the EMR Serverless application.
	// Defaults: 16 vCPU, 64 GB. EmrIdleTimeoutMinutes stops it when idle
	// (default 15). EmrReleaseLabel default: emr-7.5.0.
	EmrMaxVcpu            int    `json:"emr_max_vcpu"`
	EmrMaxMemoryGB        int    `json:"emr_max_memory_gb"`
	EmrIdleTimeoutMinutes int    `json:"emr_idle_timeout_minutes"`
	EmrReleaseLabel       string `json:"emr_release_label"`
	// TargetFileMB is the Parquet file size the raw->processed job aims at
	// (the seed asks for 128 MB-1 GB files). Default: 256.
	TargetFileMB int `json:"target_file_mb"`
	// TableMaintenance declares the Glue Data Catalog table optimizers of
	// every processed Iceberg table: compaction (which also folds the
	// merge-on-read delete files back into data files), snapshot retention
	// and orphan-file deletion. Default: true.
	TableMaintenance *bool `json:"table_maintenance"`
	// SnapshotRetentionDays: snapshots older than this expire (time travel
	// reaches this far back), keeping at least SnapshotsToRetain. Defaults:
	// 5 days, 1 snapshot (the optimizer's own defaults).
	SnapshotRetentionDays int `json:"snapshot_retention_days"`
	SnapshotsToRetain     int `json:"snapshots_to_retain"`
	// OrphanFileRetentionDays: files under a table's location that no
	// snapshot references (a failed run's uncommitted files) are deleted
	// once older than this. Default: 3 (the optimizer's default; it must
	// outlast the longest job run, or it could delete a running job's files).
	OrphanFileRetentionDays int `json:"orphan_file_retention_days"`
	// QualityLookbackDays and CuratedLookbackDays: the partitions the
	// quality check evaluates and the curated job recomputes. Default: 3.
	QualityLookbackDays int `json:"quality_lookback_days"`
	CuratedLookbackDays int `json:"curated_lookback_days"`

	// AthenaBytesScannedCutoffMB stops a query that scans more. Default:
	// 10240 (10 GiB). Athena's minimum is 10 MB.
	AthenaBytesScannedCutoffMB int `json:"athena_bytes_scanned_cutoff_mb"`

	// LogRetentionDays for every log group. Default: 365 in production,
	// 30 otherwise. Must be a value CloudWatch Logs accepts.
	LogRetentionDays int `json:"log_retention_days"`
	// MonthlyBudgetUsd is the AWS Budgets monthly cost limit. Default: 100.
	MonthlyBudgetUsd int `json:"monthly_budget_usd"`
	// ApiLatencyP99Ms and Api5xxThreshold: API alarms (p99 latency in ms,
	// 5xx responses per 5 minutes). Defaults: 2000 and 5.
	ApiLatencyP99Ms int `json:"api_latency_p99_ms"`
	Api5xxThreshold int `json:"api_5xx_threshold"`
	// AthenaDailyScannedGB alarms when the workgroup scans more per day.
	// Default: 100.
	AthenaDailyScannedGB int `json:"athena_daily_scanned_gb"`
	// QuickSight connects QuickSight to the workgroup. Default: off.
	QuickSight QuickSight `json:"quicksight"`
	// Redshift lets an existing Redshift query the lake. Default: off.
	Redshift Redshift `json:"redshift"`
	// EnableCloudTrail creates a trail with S3 data events. Default: true.
	EnableCloudTrail *bool `json:"enable_cloudtrail"`
	// EnableConfigRules creates AWS Config managed rules. Default: false
	// (they need a recorder, one per account and region).
	EnableConfigRules bool `json:"enable_config_rules"`
	// CreateConfigRecorder also creates that recorder. Default: false.
	CreateConfigRecorder bool `json:"create_config_recorder"`

	// ValidatorReservedConcurrency reserves that many concurrent executions
	// for the record validator (a cap on how much of the account's Lambda
	// pool a replay can take). Default: 0, no reservation: AWS keeps 100
	// executions unreserved per account and new accounts may have a quota
	// of 10, so any reservation can fail the ingestion stack there.
	ValidatorReservedConcurrency int `json:"validator_reserved_concurrency"`
	// AuditObjectLockMode makes the audit bucket (CloudTrail, Config)
	// write-once: "governance", "compliance" or "off". Default: governance
	// in production, off otherwise.
	AuditObjectLockMode string `json:"audit_object_lock_mode"`
	// AuditObjectLockDays is the default retention of every audit object
	// under Object Lock. Default: 365.
	AuditObjectLockDays int `json:"audit_object_lock_days"`
	// Replication copies the raw and audit buckets to another region: raw
	// is the one copy of the data that cannot be rebuilt. Default: off.
	Replication Replication `json:"replication"`
	// S3PrefixListID is the region's managed prefix list of S3
	// (com.amazonaws.<region>.s3, e.g. pl-68a54001): when set, the job
	// security group's HTTPS egress to S3 is limited to it. Default: empty,
	// HTTPS egress to any IPv4 address (the subnets are isolated: the only
	// route out is the S3 gateway endpoint).
	S3PrefixListID string `json:"s3_prefix_list_id"`
}

// Lifecycle is the `lifecycle` block: days after creation (or after an
// object became noncurrent) for each transition and expiry.
type Lifecycle struct {
	// RawIntelligentTieringDays moves raw objects to Intelligent-Tiering.
	// Default: 30 (ETL reads new raw data within days).
	RawIntelligentTieringDays *int `json:"raw_intelligent_tiering_days"`
	// RawGlacierDays moves raw objects to Glacier Flexible Retrieval.
	// Default: 180. 0 disables the transition.
	RawGlacierDays *int `json:"raw_glacier_days"`
	// RawExpirationDays deletes raw objects. Default: 2555 (7 years).
	// 0 keeps them forever.
	RawExpirationDays *int `json:"raw_expiration_days"`
	// ProcessedIntelligentTieringDays and CuratedIntelligentTieringDays
	// move those zones to Intelligent-Tiering. Default: 0 (at once).
	ProcessedIntelligentTieringDays *int `json:"processed_intelligent_tiering_days"`
	CuratedIntelligentTieringDays   *int `json:"curated_intelligent_tiering_days"`
	// NoncurrentVersionExpirationDays deletes overwritten/deleted versions.
	// Default: 90.
	NoncurrentVersionExpirationDays *int `json:"noncurrent_version_expiration_days"`
	// AbortIncompleteMultipartUploadDays default: 7.
	AbortIncompleteMultipartUploadDays *int `json:"abort_incomplete_multipart_upload_days"`
	// AccessLogExpirationDays default: 90. AthenaResultsExpirationDays
	// default: 30.
	AccessLogExpirationDays     *int `json:"access_log_expiration_days"`
	AthenaResultsExpirationDays *int `json:"athena_results_expiration_days"`
}

// Bool and Int read an optional value; the defaults are applied in
// applyDefaults so after Load they are never nil.
func Bool(b *bool) bool { return b != nil && *b }
func Int(i *int) int {
	if i == nil {
		return 0
	}
	return *i
}

// DMS is the `dms` block: replication of a source database into the lake.
type DMS struct {
	// Enabled creates the replication instance, endpoints and task.
	// Default: false. Needs enable_vpc.
	Enabled bool `json:"enabled"`
	// SourceSecretName names the Secrets Manager secret with the source
	// connection (host, port, username, password). Required when enabled.
	SourceSecretName string `json:"source_secret_name"`
	// SourceEngine: mysql, postgres, aurora, aurora-postgresql, oracle,
	// sqlserver, mariadb. Required when enabled.
	SourceEngine string `json:"source_engine"`
	// SourceDatabase is the database to read. Required when enabled.
	SourceDatabase string `json:"source_database"`
	// SourceSchema holds the tables. Default: public.
	SourceSchema string `json:"source_schema"`
	// Tables are replicated; each must be a declared dataset (the table
	// name is the dataset name). Default: none (required when enabled).
	Tables []string `json:"tables"`
	// Target is "kinesis" (through the validator, the default) or "s3"
	// (straight into the raw landing prefix).
	Target string `json:"target"`
	// InstanceClass default: dms.t3.medium. AllocatedStorageGB default: 50.
	InstanceClass      string `json:"instance_class"`
	AllocatedStorageGB int    `json:"allocated_storage_gb"`
}

// Replication is the `replication` block: S3 cross-region replication of
// the raw bucket and the audit bucket into buckets the operator created in
// another region (versioned; Object Lock on the audit copy when the audit
// bucket has it), encrypted with a key of that region. See docs/deploy.md.
type Replication struct {
	// Enabled turns replication on. Default: false.
	Enabled bool `json:"enabled"`
	// DestinationRegion is where the copies live; not the lake's region.
	// Required when enabled.
	DestinationRegion string `json:"destination_region"`
	// RawDestinationBucketArn receives the raw zone. Required when enabled.
	RawDestinationBucketArn string `json:"raw_destination_bucket_arn"`
	// AuditDestinationBucketArn receives the CloudTrail and Config files.
	// Default: empty, the audit bucket is not replicated.
	AuditDestinationBucketArn string `json:"audit_destination_bucket_arn"`
	// DestinationKmsKeyArn encrypts the copies (a key in
	// DestinationRegion). Required when enabled.
	DestinationKmsKeyArn string `json:"destination_kms_key_arn"`
}

// QuickSight is the `quicksight` block.
type QuickSight struct {
	// PrincipalArn is the QuickSight user or group that owns the data
	// source and datasets. Empty: QuickSight is off.
	PrincipalArn string `json:"principal_arn"`
}

// Redshift is the `redshift` block.
type Redshift struct {
	// Enabled creates the Spectrum role. Default: false.
	Enabled bool `json:"enabled"`
	// Type is "serverless" or "provisioned". Default: serverless.
	Type string `json:"type"`
	// Name is the serverless namespace or the provisioned cluster id.
	// Required when enabled.
	Name string `json:"name"`
}
