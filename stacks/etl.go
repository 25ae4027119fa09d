package stacks

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/layout"
)

// jobSpec is one Glue job of the workflow.
type jobSpec struct {
	id, name, script, description string
	args                          map[string]string
	role                          awsiam.Role
}

// newJob creates a PySpark job with the settings every lake job shares:
// worker type and count from config (the count is the ceiling: auto
// scaling releases idle executors), bookmarks, a timeout and retries from
// config (never Glue's 48-hour default), one run at a time, continuous
// logging, metrics and the security configuration. Outside production it
// runs on Flex capacity when use_flex is on.
func (p *Processing) newJob(cfg *config.Config, j jobSpec, lib awsglue.Code, files *assets.Files) awsglue.IJob {
	args := map[string]*string{
		"--job-bookmark-option":     jsii.String("job-bookmark-enable"),
		"--enable-auto-scaling":     jsii.String("true"),
		"--enable-glue-datacatalog": jsii.String("true"),
		// The processed tables are Apache Iceberg: Glue 5.0 loads its
		// Iceberg 1.7.1 libraries for "--datalake-formats iceberg" and the
		// jobs address the Data Catalog as the Spark catalog glue_catalog
		// (Glue developer guide, aws-glue-programming-etl-format-iceberg.html).
		"--datalake-formats": jsii.String("iceberg"),
		"--conf":             jsii.String(icebergConf(p.icebergWarehouse)),
	}
	for k, v := range j.args {
		args["--"+k] = jsii.String(v)
	}
	script := awsglue.Code_FromAsset(jsii.String(files.Scripts[j.script]), nil)
	workers := &awsglue.WorkerConfiguration{
		WorkerType:      awsglue.WorkerType(workerTypeEnum(cfg.WorkerType)),
		NumberOfWorkers: jsii.Number(float64(cfg.NumberOfWorkers)),
	}
	common := struct {
		timeout, notify awscdk.Duration
		retries         float64
	}{
		awscdk.Duration_Minutes(jsii.Number(float64(cfg.JobTimeoutMinutes))),
		// Glue emits a "Glue Job Run Status" event when a run passes this
		// delay; observability turns it into the near-timeout alert.
		JobNotifyDelay(cfg.JobTimeoutMinutes),
		float64(config.Int(cfg.JobMaxRetries)),
	}
	var connections *[]awsglue.IConnection
	if p.Connection != nil {
		connections = &[]awsglue.IConnection{p.Connection}
		allowJobNetwork(j.role)
	}
	var job awsglue.IJob
	if config.Bool(cfg.UseFlex) {
		job = awsglue.NewPySparkFlexEtlJob(p.Stack, jsii.String(j.id), &awsglue.PySparkFlexEtlJobProps{
			JobName: jsii.String(j.name), Description: jsii.String(j.description),
			Role: j.role, Script: script, ExtraPythonFiles: &[]awsglue.Code{lib},
			GlueVersion: glueVersion(cfg.GlueVersion), WorkerConfiguration: workers,
			DefaultArguments: &args, Timeout: common.timeout, MaxRetries: jsii.Number(common.retries), NotifyDelayAfter: common.notify,
			MaxConcurrentRuns: jsii.Number(1), EnableMetrics: jsii.Bool(true),
			ContinuousLogging:     &awsglue.ContinuousLoggingProps{Enabled: jsii.Bool(true)},
			SecurityConfiguration: p.SecurityConfiguration, Connections: connections,
		})
	} else {
		job = awsglue.NewPySparkEtlJob(p.Stack, jsii.String(j.id), &awsglue.PySparkEtlJobProps{
			JobName: jsii.String(j.name), Description: jsii.String(j.description),
			Role: j.role, Script: script, ExtraPythonFiles: &[]awsglue.Code{lib},
			GlueVersion: glueVersion(cfg.GlueVersion), WorkerConfiguration: workers,
			DefaultArguments: &args, Timeout: common.timeout, MaxRetries: jsii.Number(common.retries), NotifyDelayAfter: common.notify,
			MaxConcurrentRuns: jsii.Number(1), EnableMetrics: jsii.Bool(true),
			ContinuousLogging:     &awsglue.ContinuousLoggingProps{Enabled: jsii.Bool(true)},
			SecurityConfiguration: p.SecurityConfiguration, Connections: connections,
		})
	}
	p.Jobs = append(p.Jobs, job)
	return job
}

// icebergConf is the --conf value of every job: Glue takes one --conf
// argument, so further settings follow inside its value as " --conf k=v".
func icebergConf(warehouse string) string {
	settings := []string{
		"spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
		"spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog",
		"spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
		"spark.sql.catalog.glue_catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
		"spark.sql.catalog.glue_catalog.warehouse=" + warehouse,
	}
	return strings.Join(settings, " --conf ")
}

// workerTypeEnum maps a validated worker type onto the CDK enum, whose
// values are the names with "." -> "_" (G.1X -> G_1X).
func workerTypeEnum(t string) string { return strings.ReplaceAll(t, ".", "_") }

func glueVersion(v string) awsglue.GlueVersion {
	switch v {
	case "5.1":
		return awsglue.GlueVersion_V5_1
	case "6.0":
		return awsglue.GlueVersion_V6_0
	}
	return awsglue.GlueVersion_V5_0
}

// addJobsAndWorkflow builds the ETL: per dataset raw->processed and a
// quality check, then one processed->curated job, chained by a Glue
// workflow that starts on a schedule and on uploads to the landing prefix,
// and stops at the first failure (its conditions need SUCCEEDED).
func (p *Processing) addJobsAndWorkflow(cfg *config.Config, st *Storage, db awsglue.IDatabase, files *assets.Files) {
	stack := p.Stack
	// lakelib ships as a zip (--extra-py-files) whose root holds the
	// lakelib/ package; Glue's Code assets take files only.
	lib := awsglue.Code_FromAsset(jsii.String(files.LakelibZip), nil)
	bucketURL := func(b interface{ BucketName() *string }, prefix string) string {
		return "s3://" + *b.BucketName() + "/" + prefix
	}
	p.icebergWarehouse = bucketURL(st.Processed, "")
	var rawJobs, qualityJobs []awsglue.IJob
	for _, d := range cfg.Datasets {
		spec := mustJSON(d)
		role := glueRole(stack, "RawToProcessedRole-"+d.Name, "raw -> processed job of "+d.Name)
		st.Raw.GrantRead(role, jsii.String(layout.Source(d.Name)+"*"))
		st.Raw.GrantRead(role, jsii.String(layout.LandingOf(d.Name)+"*"))
		landing := bucketURL(st.Raw, layout.LandingOf(d.Name))
		if dms := DMSLandingPath(cfg, d.Name); dms != "" {
			// Replicated by DMS into S3: read its files too (CSV with Op).
			st.Raw.GrantRead(role, jsii.String(dms+"*"))
			landing += "," + bucketURL(st.Raw, dms)
		}
		st.Processed.GrantReadWrite(role, jsii.String(layout.Processed(d.Name)+"*"))
		st.Processed.GrantReadWrite(role, jsii.String(layout.QuarantineOf(d.Name)+"*"))
		st.Processed.GrantReadWrite(role, jsii.String(layout.ChangesOf(d.Name)+"*"))
		st.Key.GrantEncryptDecrypt(role) // job bookmarks are client-side encrypted
		// Iceberg's GlueCatalog loads the table and commits a snapshot by
		// updating its metadata_location.
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"),
			Resources: catalogArns(stack, cfg.DataCatalogDatabaseName, d.Name),
		}))
		suppressJobRole(role, "the job reads its dataset's raw prefixes and writes its processed and quarantine prefixes.", idRaw, idProcessed)
		rawJobs = append(rawJobs, p.newJob(cfg, jobSpec{
			id: "RawToProcessed-" + d.Name, name: cfg.Prefix() + "-raw-to-processed-" + d.Name, script: "raw_to_processed.py",
			description: "Reads new raw " + d.Name + " (bookmarks), applies the declared schema, de-duplicates, writes Parquet; bad rows to quarantine",
			role:        role,
			args: map[string]string{
				"dataset_spec":    spec,
				"raw_path":        bucketURL(st.Raw, layout.Source(d.Name)),
				"landing_path":    landing,
				"processed_path":  bucketURL(st.Processed, layout.Processed(d.Name)),
				"database":        cfg.DataCatalogDatabaseName,
				"table":           d.Name,
				"quarantine_path": bucketURL(st.Processed, layout.QuarantineOf(d.Name)),
				"changes_path":    bucketURL(st.Processed, layout.ChangesOf(d.Name)),
				"target_file_mb":  fmt.Sprint(cfg.TargetFileMB),
			},
		}, lib, files))

		ruleset := dataset.Ruleset(d)
		awsglue.NewDataQualityRuleset(stack, jsii.String("Quality-"+d.Name), &awsglue.DataQualityRulesetProps{
			RulesetName: jsii.String(cfg.Prefix() + "-" + d.Name),
			Description: jsii.String("Declared rules of " + d.Name + ": completeness, key, allowed values, ranges"),
			Dqdl:        awsglue.Dqdl_FromString(jsii.String(ruleset)),
			TargetTable: awsglue.DataQualityTargetTable_FromTableName(db, jsii.String(d.Name)),
		})
		qrole := glueRole(stack, "QualityRole-"+d.Name, "quality check of "+d.Name)
		st.Processed.GrantRead(qrole, jsii.String(layout.Processed(d.Name)+"*"))
		st.Processed.GrantReadWrite(qrole, jsii.String(layout.QualityOf(d.Name)+"*"))
		st.Key.GrantEncryptDecrypt(qrole)
		// The dataset's QualityFailed metric (its alarm), nothing else.
		qrole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("cloudwatch:PutMetricData"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"cloudwatch:namespace": QualityMetricsNamespace}},
		}))
		grantCatalogRead(qrole, stack, cfg.DataCatalogDatabaseName, d.Name)
		qrole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			// Results of EvaluateDataQuality in a job are published per
			// evaluation context, not to a ruleset resource.
			Actions:   jsii.Strings("glue:PublishDataQuality"),
			Resources: jsii.Strings("*"),
		}))
		suppressJobRole(qrole, "the quality check reads its dataset's processed prefix.", idProcessed)
		qualityJobs = append(qualityJobs, p.newJob(cfg, jobSpec{
			id: "QualityCheck-" + d.Name, name: cfg.Prefix() + "-quality-" + d.Name, script: "quality_check.py",
			description: "Evaluates the declared data quality rules on recent processed " + d.Name + " partitions; records the verdict that gates " + d.Name + "'s curated output",
			role:        qrole,
			args: map[string]string{
				"database":          cfg.DataCatalogDatabaseName,
				"table":             d.Name,
				"ruleset":           ruleset,
				"dataset_name":      d.Name,
				"lookback_days":     fmt.Sprint(cfg.QualityLookbackDays),
				"verdict_path":      bucketURL(st.Processed, layout.Verdict(d.Name)),
				"metrics_namespace": QualityMetricsNamespace,
				"environment":       cfg.Prefix(),
			},
		}, lib, files))
	}

	datasets := mustJSON(cfg.Datasets)
	joins := mustJSON(cfg.Joins)
	if cfg.Joins == nil {
		joins = "[]"
	}
	crole := glueRole(stack, "ProcessedToCuratedRole", "processed -> curated job")
	for _, d := range cfg.Datasets {
		st.Processed.GrantRead(crole, jsii.String(layout.Processed(d.Name)+"*"))
	}
	st.Processed.GrantRead(crole, jsii.String(layout.Quality+"*"))
	// The change records it consumes (read, then deleted).
	st.Processed.GrantReadWrite(crole, jsii.String(layout.Changes+"*"))
	grantCatalogRead(crole, stack, cfg.DataCatalogDatabaseName, datasetNames(cfg)...)
	st.Curated.GrantReadWrite(crole, nil)
	st.Key.GrantEncryptDecrypt(crole)
	suppressJobRole(crole, "the curated job reads the processed datasets and writes the curated zone.", idProcessed, idCurated)
	curated := p.newJob(cfg, jobSpec{
		id: "ProcessedToCurated", name: cfg.Prefix() + "-processed-to-curated", script: "processed_to_curated.py",
		description: "Daily aggregates per dataset and the declared joins, skipping datasets whose quality verdict failed; overwrites only the recomputed partitions",
		role:        crole,
		args: map[string]string{
			"datasets":       datasets,
			"joins":          joins,
			"processed_root": bucketURL(st.Processed, ""),
			"database":       cfg.DataCatalogDatabaseName,
			"curated_root":   bucketURL(st.Curated, ""),
			"lookback_days":  fmt.Sprint(cfg.CuratedLookbackDays),
			"quality_root":   bucketURL(st.Processed, layout.Quality),
			"changes_root":   bucketURL(st.Processed, layout.Changes),
		},
	}, lib, files)

	wf := awsglue.NewWorkflow(stack, jsii.String("Workflow"), &awsglue.WorkflowProps{
		WorkflowName:      jsii.String(cfg.Prefix() + "-etl"),
		Description:       jsii.String("raw -> processed -> quality -> curated"),
		MaxConcurrentRuns: jsii.Number(1),
	})
	p.WorkflowName = wf.WorkflowName()
	actions := func(jobs []awsglue.IJob) *[]awsglue.Action {
		out := make([]awsglue.Action, len(jobs))
		for i, j := range jobs {
			out[i] = awsglue.Action_Job(j, nil)
		}
		return &out
	}
	succeeded := func(jobs []awsglue.IJob) *awsglue.Predicate {
		conds := make([]awsglue.Condition, len(jobs))
		for i, j := range jobs {
			conds[i] = awsglue.Condition_Job(j, awsglue.JobState_SUCCEEDED, nil)
		}
		return &awsglue.Predicate{Logical: awsglue.PredicateLogical_AND, Conditions: &conds}
	}
	// One EVENT start trigger fed by two EventBridge rules (the schedule and
	// landing uploads); batching turns a burst of uploads into one run.
	wf.AddEventTrigger(jsii.String("Start"), &awsglue.EventTriggerOptions{
		Name:    jsii.String(cfg.Prefix() + "-etl-start"),
		Actions: actions(rawJobs),
		EventBatchingCondition: &awsglue.EventBatchingCondition{
			BatchSize:   jsii.Number(10),
			BatchWindow: awscdk.Duration_Minutes(jsii.Number(15)),
		},
	})
	wf.AddConditionalTrigger(jsii.String("AfterRawToProcessed"), &awsglue.ConditionalTriggerOptions{
		Name:    jsii.String(cfg.Prefix() + "-etl-quality"),
		Actions: actions(qualityJobs), Predicate: succeeded(rawJobs), StartOnCreation: jsii.Bool(true),
	})
	wf.AddConditionalTrigger(jsii.String("AfterQuality"), &awsglue.ConditionalTriggerOptions{
		Name:    jsii.String(cfg.Prefix() + "-etl-curated"),
		Actions: actions([]awsglue.IJob{curated}), Predicate: succeeded(qualityJobs), StartOnCreation: jsii.Bool(true),
	})
	p.startWorkflowOn(cfg, st, wf)
}

// startWorkflowOn wires the schedule and landing uploads to the workflow's
// event trigger. L1 rules: aws-events-targets has no Glue workflow target.
func (p *Processing) startWorkflowOn(cfg *config.Config, st *Storage, wf awsglue.Workflow) {
	role := awsiam.NewRole(p.Stack, jsii.String("WorkflowEventsRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Description: jsii.String("EventBridge notifies the ETL workflow"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("glue:notifyEvent"),
		Resources: jsii.Strings(*wf.WorkflowArn()),
	}))
	target := &[]*awsevents.CfnRule_TargetProperty{{Id: jsii.String("workflow"), Arn: wf.WorkflowArn(), RoleArn: role.RoleArn()}}
	awsevents.NewCfnRule(p.Stack, jsii.String("EtlSchedule"), &awsevents.CfnRuleProps{
		Description:        jsii.String("Starts the ETL workflow on etl_schedule"),
		ScheduleExpression: jsii.String(cfg.EtlSchedule),
		Targets:            target,
	})
	// Uploads to the datasets' landing folders only: the DMS S3 target's
	// folder (landing/dms/) receives CDC files all day, which the scheduled
	// run picks up; matching it would start the workflow every batch window.
	var prefixes []any
	for _, d := range cfg.Datasets {
		prefixes = append(prefixes, map[string]any{"prefix": layout.LandingOf(d.Name)})
	}
	awsevents.NewCfnRule(p.Stack, jsii.String("LandingUploads"), &awsevents.CfnRuleProps{
		Description: jsii.String("Starts the ETL workflow when files land under " + layout.Landing + "<dataset>/"),
		EventPattern: map[string]any{
			"source":      []string{"aws.s3"},
			"detail-type": []string{"Object Created"},
			"detail": map[string]any{
				"bucket": map[string]any{"name": []any{st.Raw.BucketName()}},
				"object": map[string]any{"key": prefixes},
			},
		},
		Targets: target,
	})
}

// suppressJobRole acknowledges the wildcard findings a job role has by
// design: CDK grant action families on the given buckets' prefixes (the
// zones this job reads or writes, nothing else), its run log groups, the
// job's script assets, and the namespace-conditioned metrics permission.
func suppressJobRole(role awsiam.Role, why string, bucketIDs ...string) {
	compliance.GrantWildcards(role, why, bucketIDs...)
	compliance.Suppress(role, compliance.Suppression{
		ID:     "AwsSolutions-IAM5",
		Reason: "The job script and lakelib zip are CDK assets in the bootstrap assets bucket, whose objects the Glue L2 job grants read on; Glue names its run log groups under /aws-glue/ at run time; cloudwatch:PutMetricData (limited to the Glue namespaces by condition) and glue:PublishDataQuality have no resource-level permissions.",
		AppliesToRegex: []string{
			`/^Resource::arn:<AWS::Partition>:logs:.*:log-group:\/aws-glue\/\*$/g`,
			`/^Resource::\*$/g`,
			`/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-.*\/\*$/g`,
		},
	})
}

func datasetNames(cfg *config.Config) []string {
	out := make([]string, len(cfg.Datasets))
	for i, d := range cfg.Datasets {
		out[i] = d.Name
	}
	return out
}

// mustJSON encodes config values for job arguments; they are plain structs
// that always encode.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
