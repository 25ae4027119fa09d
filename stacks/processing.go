package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/catalog"
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
	destroy         bool
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
	p := &Processing{Stack: stack, ProcessedTables: map[string]*icebergtable.Table{}, destroy: props.Destroy}

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
	role := gluejob.NewRole(p.Stack, "TableMaintenanceRole", "Runs the Glue table optimizers of the processed Iceberg tables")
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
	gluejob.AcknowledgeJobRole(role, "the table optimizers read, rewrite and delete files of the processed tables.", idProcessed)
	return m
}

// icebergColumns are the processed columns then dt (a plain column of an
// Iceberg table; the partition spec is the job's, see icebergtable).
func icebergColumns(d dataset.Spec) []icebergtable.Column {
	var out []icebergtable.Column
	for _, c := range dataset.ProcessedColumns(d) {
		out = append(out, icebergtable.Column{Name: c.Name, Type: c.Type})
	}
	return append(out, icebergtable.Column{Name: "dt", Type: "string", Comment: "event day (YYYY-MM-DD, UTC)"})
}

// addTables declares every dataset's table in each zone, from the
// declaration: raw (JSON envelopes), processed (Apache Iceberg) and curated
// daily aggregates and joins (Parquet); the Parquet and JSON tables are
// partitioned by dt with projection (constructs/catalog).
func (p *Processing) addTables(cfg *config.Config, st *Storage, db awsglue.IDatabase) {
	table := func(id, name, description string, bucket awss3.IBucket, prefix string, cols []dataset.TableColumn, format awsglue.DataFormat) {
		catalog.NewTable(p.Stack, id, catalog.TableProps{
			Database: db, Name: name, Description: description, Columns: cols,
			Bucket: bucket, Prefix: prefix, Format: format,
		})
	}
	maintenance := p.tableMaintenance(cfg)
	for _, d := range cfg.Datasets {
		table("RawTable-"+d.Name, d.Name+"_raw", "Raw envelopes of "+d.Name+" as delivered by Firehose", st.Raw, layout.Source(d.Name), dataset.RawColumns(d), awsglue.DataFormat_JSON())
		p.ProcessedTables[d.Name] = icebergtable.New(p.Stack, "ProcessedTable-"+d.Name, icebergtable.Props{
			Maintenance: maintenance,
			Database:    cfg.DataCatalogDatabaseName, Name: d.Name,
			Description: d.Description + " (cleaned, typed, de-duplicated; Apache Iceberg)",
			Bucket:      st.Processed, Prefix: layout.Processed(d.Name), Key: st.Key,
			Columns:         icebergColumns(d),
			LogRetention:    retention(cfg.LogRetentionDays),
			DeleteWithStack: p.destroy,
		})
		p.ProcessedTables[d.Name].Resource.Node().AddDependency(db)
		table("DailyTable-"+d.Name, dataset.DailyTable(d), "Daily aggregates of "+d.Name, st.Curated, layout.Curated(dataset.DailyTable(d)), dataset.DailyColumns(d), awsglue.DataFormat_PARQUET())
	}
	for _, j := range cfg.Joins {
		cols, err := dataset.JoinColumns(j, cfg.Datasets)
		if err != nil {
			panic(err) // config validation already checked the join
		}
		table("JoinTable-"+j.Name, j.Name, j.Description, st.Curated, layout.Curated(j.Name), cols, awsglue.DataFormat_PARQUET())
	}
}
