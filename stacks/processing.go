package stacks

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/catalog"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/emrspark"

	"github.com/example/datalake/constructs/gluejob"
	"github.com/example/datalake/constructs/icebergtable"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/layout"
)

// ProcessingProps configure the processing stack.
type ProcessingProps struct {
	StackProps awscdk.StackProps
	Config     *config.Config
	Storage    *Storage
	// Destroy lets `cdk destroy` delete the catalog database.
	// Default: false (retain).
	Destroy bool
	// Files locate the job scripts and the lakelib zip. Required.
	Files *assets.Files
}

// Processing owns the Glue catalog and the jobs that move data from raw to
// processed to curated.
type Processing struct {
	Stack    awscdk.Stack
	Database awsglue.IDatabase
	// SecurityConfiguration encrypts job logs, bookmarks and S3 writes with
	// the lake key.
	SecurityConfiguration awsglue.SecurityConfiguration
	// Jobs are every Glue job (raw->processed and quality per dataset,
	// processed->curated), for failure rules and elapsed-time alarms.
	Jobs []awsglue.IJob
	// CrawlerNames and WorkflowName identify the crawlers and the workflow
	// for failure rules.
	CrawlerNames []*string
	WorkflowName *string
	// EmrApplicationId is the EMR Serverless application (nil unless
	// enable_emr).
	EmrApplicationId *string
	// ProcessedTables are the processed Iceberg tables by dataset name.
	ProcessedTables map[string]*icebergtable.Table
	// CuratedTables are the curated Iceberg tables by name: each dataset's
	// daily aggregates (<dataset>_daily) and each join. Analysts, QuickSight
	// and Spectrum read them in the catalog database.
	CuratedTables map[string]*icebergtable.Table
	destroy       bool
	// icebergWarehouse is the Iceberg catalog's default location (the
	// processed bucket); every table names its own location.
	icebergWarehouse string
	// Connection puts every Glue job into the private network's isolated
	// subnets with the job security group (nil unless enable_vpc).
	Connection awsglue.IConnection
}

// Layout of the processed and curated zones, shared with the Glue jobs
// (glue/README.md) and the analytics tables.
const (
	// QualityMetricsNamespace holds QualityFailed (dimensions Dataset,
	// Environment): 1 when a dataset's rules failed, 0 when they passed.
	QualityMetricsNamespace = "DataLake/Quality"
	// ProjectionStart is the first day partition projection enumerates.
	ProjectionStart = catalog.DefaultProjectionStart
)

// NewProcessing builds the processing stack.
func NewProcessing(scope constructs.Construct, id string, props ProcessingProps) *Processing {
	cfg, st := props.Config, props.Storage
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p := &Processing{Stack: stack, ProcessedTables: map[string]*icebergtable.Table{},
		CuratedTables: map[string]*icebergtable.Table{}, destroy: props.Destroy}

	db := catalog.NewDatabase(stack, "CatalogDatabase", catalog.DatabaseProps{
		Name:        cfg.DataCatalogDatabaseName,
		Description: "Tables of the raw, processed and curated zones of " + cfg.Prefix(),
		Destroy:     props.Destroy,
	})
	p.Database = db

	p.SecurityConfiguration = gluejob.NewSecurityConfiguration(stack, "SecurityConfiguration", cfg.Prefix()+"-glue", st.Key)
	if st.Vpc != nil {
		// The jobs' private network: the first isolated subnet and the job
		// security group.
		p.Connection = gluejob.NewConnection(stack, "JobConnection", cfg.Prefix()+"-jobs",
			"Private network of the "+cfg.Prefix()+" Glue jobs (isolated subnet, job security group)",
			(*st.Vpc.IsolatedSubnets())[0], st.JobSecurityGroup)
	}
	p.addTables(cfg, st, db)
	// Files people and exports drop under landing/ (the declared datasets
	// need no crawler: their tables come from the declarations).
	crawler := catalog.NewCrawler(stack, "LandingCrawler", catalog.CrawlerProps{
		Name:        cfg.Prefix() + "-landing",
		Description: "Schema discovery for uploads and database exports under " + layout.Landing,
		Database:    db, TablePrefix: "landing_",
		Bucket: st.Raw, Prefix: layout.Landing,
		Schedule:              cfg.CrawlerSchedule,
		SecurityConfiguration: p.SecurityConfiguration,
	})
	p.CrawlerNames = []*string{crawler.Ref()}
	p.addJobsAndWorkflow(cfg, st, db, props.Files)
	if cfg.EnableEMR {
		p.EmrApplicationId = newEmrApplication(stack, cfg, st)
	}

	output(stack, "CatalogDatabaseName", jsii.String(cfg.DataCatalogDatabaseName), "Glue catalog database of the lake tables")
	output(stack, "WorkflowName", p.WorkflowName, "Glue workflow raw -> processed -> quality -> curated")
	return p
}

// tableMaintenance is the optimizer settings every processed table shares
// (nil when table_maintenance is off): one role, in the jobs' network when
// there is one.
func (p *Processing) tableMaintenance(cfg *config.Config) *icebergtable.Maintenance {
	if !config.Bool(cfg.TableMaintenance) {
		return nil
	}
	role := gluejob.NewRole(p.Stack, "TableMaintenanceRole", "Runs the Glue table optimizers of the processed and curated Iceberg tables")
	m := &icebergtable.Maintenance{
		Role:                    role,
		SnapshotRetentionDays:   float64(cfg.SnapshotRetentionDays),
		SnapshotsToRetain:       float64(cfg.SnapshotsToRetain),
		OrphanFileRetentionDays: float64(cfg.OrphanFileRetentionDays),
	}
	if p.Connection != nil {
		m.ConnectionName = *p.Connection.ConnectionName()
		gluejob.AllowNetwork(role)
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("glue:GetConnection"),
			Resources: jsii.Strings(*p.Connection.ConnectionArn()),
		}))
	}
	gluejob.AcknowledgeJobRole(role, "the table optimizers read, rewrite and delete files of the processed and curated tables.", idProcessed, idCurated)
	return m
}

// icebergColumns are a table's columns then dt (a plain column of an
// Iceberg table; the partition spec is the job's, see icebergtable).
func icebergColumns(cols []dataset.TableColumn) []icebergtable.Column {
	var out []icebergtable.Column
	for _, c := range cols {
		out = append(out, icebergtable.Column{Name: c.Name, Type: c.Type})
	}
	return append(out, icebergtable.Column{Name: "dt", Type: "string", Comment: "event day (YYYY-MM-DD, UTC)"})
}

// addTables declares every dataset's table in each zone, from the
// declaration: raw (JSON envelopes, partitioned by dt with projection:
// constructs/catalog), processed and curated (Apache Iceberg,
// constructs/icebergtable): the daily aggregates per dataset and the joins.
func (p *Processing) addTables(cfg *config.Config, st *Storage, db awsglue.IDatabase) {
	maintenance := p.tableMaintenance(cfg)
	iceberg := func(id, name, description string, bucket awss3.IBucket, prefix string, cols []dataset.TableColumn) *icebergtable.Table {
		t := icebergtable.New(p.Stack, id, icebergtable.Props{
			Maintenance: maintenance,
			Database:    cfg.DataCatalogDatabaseName, Name: name, Description: description,
			Bucket: bucket, Prefix: prefix, Key: st.Key,
			Columns:         icebergColumns(cols),
			LogRetention:    retention(cfg.LogRetentionDays),
			DeleteWithStack: p.destroy,
		})
		t.Resource.Node().AddDependency(db)
		return t
	}
	for _, d := range cfg.Datasets {
		catalog.NewTable(p.Stack, "RawTable-"+d.Name, catalog.TableProps{
			Database: db, Name: d.Name + "_raw", Description: "Raw envelopes of " + d.Name + " as delivered by Firehose",
			Columns: dataset.RawColumns(d), Bucket: st.Raw, Prefix: layout.Source(d.Name), Format: awsglue.DataFormat_JSON(),
		})
		p.ProcessedTables[d.Name] = iceberg("ProcessedTable-"+d.Name, d.Name,
			d.Description+" (cleaned, typed, de-duplicated; Apache Iceberg)",
			st.Processed, layout.Processed(d.Name), dataset.ProcessedColumns(d))
		// Not DailyTable-<dataset>: that id was the Parquet AWS::Glue::Table
		// of the same name, and CloudFormation cannot change a resource's
		// type in place (README, "Migration").
		name := dataset.DailyTable(d)
		p.CuratedTables[name] = iceberg("CuratedTable-"+name, name,
			"Daily aggregates of "+d.Name+" (curated zone; Apache Iceberg)",
			st.Curated, layout.Curated(name), dataset.DailyColumns(d))
	}
	for _, j := range cfg.Joins {
		cols, err := dataset.JoinColumns(j, cfg.Datasets)
		if err != nil {
			panic(err) // config validation already checked the join
		}
		p.CuratedTables[j.Name] = iceberg("CuratedTable-"+j.Name, j.Name, j.Description+" (curated zone; Apache Iceberg)",
			st.Curated, layout.Curated(j.Name), cols)
	}
}

// --- ETL: jobs and workflow ------------------------------------------------

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
		st.Processed.GrantReadWrite(role, jsii.String(layout.LandingFilesOf(d.Name)+"*"))
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
			description: "Reads new raw and landing " + d.Name + " (bookmarks, landing manifest), applies the declared schema, de-duplicates, MERGEs into the processed Iceberg table (newer wins); bad rows to quarantine",
			role:        role,
			args: map[string]string{
				"dataset_spec":       spec,
				"raw_path":           bucketURL(st.Raw, layout.Source(d.Name)),
				"landing_path":       landing,
				"landing_files_path": bucketURL(st.Processed, layout.LandingFilesOf(d.Name)),
				"processed_path":     bucketURL(st.Processed, layout.Processed(d.Name)),
				"database":           cfg.DataCatalogDatabaseName,
				"table":              d.Name,
				"quarantine_path":    bucketURL(st.Processed, layout.QuarantineOf(d.Name)),
				"changes_path":       bucketURL(st.Processed, layout.ChangesOf(d.Name)),
				"target_file_mb":     fmt.Sprint(cfg.TargetFileMB),
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
	// Iceberg's GlueCatalog commits an overwrite of a curated table by
	// updating its metadata_location.
	curatedNames := make([]string, 0, len(p.CuratedTables))
	for name := range p.CuratedTables {
		curatedNames = append(curatedNames, name)
	}
	sort.Strings(curatedNames)
	crole.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"),
		Resources: catalog.Arns(stack, cfg.DataCatalogDatabaseName, curatedNames...),
	}))
	st.Curated.GrantReadWrite(crole, nil)
	st.Key.GrantEncryptDecrypt(crole)
	gluejob.AcknowledgeJobRole(crole, "the curated job reads the processed datasets and writes the curated zone.", idProcessed, idCurated)
	curated := p.newJob(cfg, jobSpec{
		id: "ProcessedToCurated", name: cfg.Prefix() + "-processed-to-curated", script: "processed_to_curated.py",
		description: "Daily aggregates per dataset and the declared joins into the curated Iceberg tables, skipping datasets whose quality verdict failed; one overwrite of the recomputed days per table, none when nothing changed",
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
	wf := gluejob.NewWorkflow(stack, "Workflow", gluejob.WorkflowProps{
		Name:        cfg.Prefix() + "-etl",
		Description: "raw -> processed -> quality -> curated",
		Stages: []gluejob.Stage{
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

// --- EMR ------------------------------------------------------------------

// newEmrApplication creates the optional EMR Serverless application
// (constructs/emrspark) for heavy processing across datasets: its jobs read
// every zone and the catalog database, and write processed and curated.
func newEmrApplication(stack awscdk.Stack, cfg *config.Config, st *Storage) *string {
	app := emrspark.New(stack, emrspark.Props{
		Name: cfg.Prefix() + "-spark", ReleaseLabel: cfg.EmrReleaseLabel,
		MaxVcpu: cfg.EmrMaxVcpu, MaxMemoryGB: cfg.EmrMaxMemoryGB, IdleTimeoutMinutes: cfg.EmrIdleTimeoutMinutes,
		Subnets: *st.Vpc.IsolatedSubnets(), SecurityGroup: st.JobSecurityGroup,
		Logs: st.Processed, Key: st.Key,
		Read:  []awss3.IBucket{st.Raw},
		Write: []awss3.IBucket{st.Processed, st.Curated},
		Grant: func(role awsiam.IRole) {
			catalog.GrantRead(role, cfg.DataCatalogDatabaseName, "*")
			// The processed and curated tables are Iceberg: a write reaches
			// them only as a commit through the catalog (files written
			// beside a table are orphans, which the optimizer deletes).
			role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("glue:UpdateTable"),
				Resources: catalog.Arns(stack, cfg.DataCatalogDatabaseName, "*"),
			}))
		},
	})
	compliance.GrantWildcards(app.JobRole, "EMR jobs read every zone and write processed and curated data (heavy processing across datasets).", idRaw, idProcessed, idCurated)
	compliance.Suppress(app.JobRole, compliance.Suppression{
		ID:             "AwsSolutions-IAM5",
		Reason:         "EMR jobs may read every table of the lake's catalog database and commit to its Iceberg tables (heavy processing across datasets); nothing outside it.",
		AppliesToRegex: []string{`/^Resource::arn:.*:table\/.*\/\*$/g`},
	})
	output(stack, "EmrApplicationId", app.ApplicationID(), "EMR Serverless application for heavy Spark processing")
	output(stack, "EmrJobRoleArn", app.JobRole.RoleArn(), "Role to pass as executionRoleArn when submitting EMR Serverless jobs")
	return app.ApplicationID()
}
