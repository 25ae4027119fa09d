package stacks

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/catalog"
	"github.com/example/datalake/constructs/etlworkflow"
	"github.com/example/datalake/constructs/gluejob"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/layout"
)

// jobSpec is one Glue job of the workflow: what differs between jobs.
type jobSpec struct {
	id, name, script, description string
	args                          map[string]string
	role                          awsiam.Role
}

// newJob creates one of the lake's jobs (constructs/gluejob) with the
// settings from config: worker type and ceiling, Glue version, timeout,
// retries, Flex outside production when use_flex is on, the long-run
// notification delay, the jobs' network, and Iceberg through the catalog.
func (p *Processing) newJob(cfg *config.Config, j jobSpec, lib awsglue.Code, files *assets.Files) awsglue.IJob {
	job := gluejob.New(p.Stack, j.id, gluejob.Props{
		Name: j.name, Description: j.description,
		Script:  awsglue.Code_FromAsset(jsii.String(files.Scripts[j.script]), nil),
		Library: lib, Role: j.role, Arguments: j.args,
		WorkerType: cfg.WorkerType, Workers: cfg.NumberOfWorkers, GlueVersion: cfg.GlueVersion,
		TimeoutMinutes: cfg.JobTimeoutMinutes, MaxRetries: config.Int(cfg.JobMaxRetries),
		// Glue emits a "Glue Job Run Status" event when a run passes this
		// delay; observability turns it into the near-timeout alert.
		NotifyDelayAfter:      JobNotifyDelay(cfg.JobTimeoutMinutes),
		Flex:                  config.Bool(cfg.UseFlex),
		SecurityConfiguration: p.SecurityConfiguration,
		Connection:            p.Connection,
		IcebergWarehouse:      p.icebergWarehouse,
	})
	p.Jobs = append(p.Jobs, job)
	return job
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
		role := gluejob.NewRole(stack, "RawToProcessedRole-"+d.Name, "raw -> processed job of "+d.Name)
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
			Resources: catalog.Arns(stack, cfg.DataCatalogDatabaseName, d.Name),
		}))
		gluejob.AcknowledgeJobRole(role, "the job reads its dataset's raw prefixes and writes its processed and quarantine prefixes.", idRaw, idProcessed)
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
		qrole := gluejob.NewRole(stack, "QualityRole-"+d.Name, "quality check of "+d.Name)
		st.Processed.GrantRead(qrole, jsii.String(layout.Processed(d.Name)+"*"))
		st.Processed.GrantReadWrite(qrole, jsii.String(layout.QualityOf(d.Name)+"*"))
		st.Key.GrantEncryptDecrypt(qrole)
		// The dataset's QualityFailed metric (its alarm), nothing else.
		qrole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("cloudwatch:PutMetricData"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"cloudwatch:namespace": QualityMetricsNamespace}},
		}))
		catalog.GrantRead(qrole, cfg.DataCatalogDatabaseName, d.Name)
		qrole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			// Results of EvaluateDataQuality in a job are published per
			// evaluation context, not to a ruleset resource.
			Actions:   jsii.Strings("glue:PublishDataQuality"),
			Resources: jsii.Strings("*"),
		}))
		gluejob.AcknowledgeJobRole(qrole, "the quality check reads its dataset's processed prefix.", idProcessed)
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
	crole := gluejob.NewRole(stack, "ProcessedToCuratedRole", "processed -> curated job")
	for _, d := range cfg.Datasets {
		st.Processed.GrantRead(crole, jsii.String(layout.Processed(d.Name)+"*"))
	}
	st.Processed.GrantRead(crole, jsii.String(layout.Quality+"*"))
	// The change records it consumes (read, then deleted).
	st.Processed.GrantReadWrite(crole, jsii.String(layout.Changes+"*"))
	catalog.GrantRead(crole, cfg.DataCatalogDatabaseName, datasetNames(cfg)...)
	st.Curated.GrantReadWrite(crole, nil)
	st.Key.GrantEncryptDecrypt(crole)
	gluejob.AcknowledgeJobRole(crole, "the curated job reads the processed datasets and writes the curated zone.", idProcessed, idCurated)
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

	// Uploads to the datasets' landing folders start a run; the DMS S3
	// target's folder (landing/dms/) receives CDC files all day, which the
	// scheduled run picks up: matching it would start the workflow every
	// batch window.
	var uploads []string
	for _, d := range cfg.Datasets {
		uploads = append(uploads, layout.LandingOf(d.Name))
	}
	wf := etlworkflow.New(stack, "Workflow", etlworkflow.Props{
		Name:        cfg.Prefix() + "-etl",
		Description: "raw -> processed -> quality -> curated",
		Stages: []etlworkflow.Stage{
			{ID: "Start", TriggerName: cfg.Prefix() + "-etl-start", Jobs: rawJobs},
			{ID: "AfterRawToProcessed", TriggerName: cfg.Prefix() + "-etl-quality", Jobs: qualityJobs},
			{ID: "AfterQuality", TriggerName: cfg.Prefix() + "-etl-curated", Jobs: []awsglue.IJob{curated}},
		},
		Schedule:     cfg.EtlSchedule,
		UploadBucket: st.Raw, UploadPrefixes: uploads,
	})
	p.WorkflowName = wf.WorkflowName()
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
