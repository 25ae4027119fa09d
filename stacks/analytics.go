package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/bi"
	"github.com/example/datalake/constructs/catalog"
	"github.com/example/datalake/constructs/workgroup"
	"github.com/example/datalake/dataset"
	"github.com/example/datalake/layout"
	"github.com/example/datalake/queries"
)

// AnalyticsProps configure the analytics stack.
type AnalyticsProps struct {
	StackProps awscdk.StackProps
	Config     *config.Config
	Storage    *Storage
	Processing *Processing
	// Destroy lets `cdk destroy` delete the analyst database.
	// Default: false (retain).
	Destroy bool
	// ProjectionStart is the first day (yyyy-MM-dd) the analyst tables'
	// partition projection enumerates. Default: ProjectionStart, the same
	// day as the catalog tables.
	ProjectionStart string
}

// Analytics owns what analysts touch: the Athena workgroup and database,
// the tables over the curated zone and the quarantine, the named queries,
// and the optional QuickSight and Redshift Spectrum access.
type Analytics struct {
	Stack     awscdk.Stack
	WorkGroup *workgroup.WorkGroup
	Database  awsglue.IDatabase
	// Tables are the analyst tables of the Athena database by name: each
	// dataset's quarantine, <dataset>_quarantine (gzip JSON lines).
	Tables map[string]awsglue.S3Table
	// CuratedTables lists the names of the curated tables, in declaration
	// order (daily tables, then joins): what BI tools and Spectrum read.
	// They are Apache Iceberg tables of the catalog database (one catalog
	// entry per table: an Iceberg table's metadata pointer lives in one
	// entry, so a second entry over the same files would fall behind).
	CuratedTables []string
	// NamedQueries are the rendered queries/*.sql, saved in the workgroup.
	NamedQueries []awsathena.CfnNamedQuery
	// QuickSightRole is the role the QuickSight data source queries Athena
	// with; nil unless quicksight.principal_arn is set.
	QuickSightRole awsiam.IRole
	// SpectrumRole is the role Redshift assumes to read the lake; nil unless
	// redshift.enabled.
	SpectrumRole awsiam.IRole

	// curated are the curated tables for BI tools, in CuratedTables order.
	curated []bi.Table
}

// NewAnalytics builds the analytics stack.
func NewAnalytics(scope constructs.Construct, id string, props AnalyticsProps) *Analytics {
	cfg, st := props.Config, props.Storage
	if props.ProjectionStart == "" {
		props.ProjectionStart = ProjectionStart
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	a := &Analytics{Stack: stack, Tables: map[string]awsglue.S3Table{}}
	// The named queries, QuickSight and Spectrum name the catalog's tables
	// by name (no reference CloudFormation could see), so the order is
	// explicit.
	stack.AddStackDependency(props.Processing.Stack, jsii.String("named queries, QuickSight and Spectrum read the catalog database's tables"))

	a.WorkGroup = workgroup.New(stack, "WorkGroup", workgroup.Props{
		Name:        cfg.AthenaWorkgroupName,
		Description: "Queries over the " + cfg.Prefix() + " data lake",
		Results:     st.AthenaResults, Key: st.Key,
		BytesScannedCutoffMB: float64(cfg.AthenaBytesScannedCutoffMB),
		RecursiveDelete:      props.Destroy,
	})

	a.Database = catalog.NewDatabase(stack, "AthenaDatabase", catalog.DatabaseProps{
		Name:        cfg.AthenaDatabaseName,
		Description: "Analyst-facing tables over the quarantine of " + cfg.Prefix() + " (the curated tables are in the catalog database)",
		Destroy:     props.Destroy,
	})

	a.addTables(cfg, st, props.ProjectionStart)
	a.addCurated(cfg, props.Processing)
	a.addNamedQueries(cfg)

	if cfg.QuickSight.PrincipalArn != "" {
		a.addQuickSight(cfg, st)
	} else {
		awscdk.Annotations_Of(stack).AddInfo(jsii.String("QuickSight is off: set quicksight.principal_arn (a QuickSight user or group ARN) in this environment's block of cdk.json to create the Athena data source and one dataset per curated table."))
	}
	if cfg.Redshift.Enabled {
		a.addSpectrum(cfg)
	}

	output(stack, "WorkGroupName", a.WorkGroup.Name(), "Athena workgroup to query the lake with")
	output(stack, "AthenaDatabaseName", jsii.String(cfg.AthenaDatabaseName), "Athena database of analyst tables (quarantine)")
	output(stack, "CatalogDatabaseName", jsii.String(cfg.DataCatalogDatabaseName), "Glue catalog database of the raw, processed and curated tables (curated: <dataset>_daily and the joins)")
	return a
}

// addTables declares the analyst tables in the Athena database: each
// dataset's quarantine (gzip JSON lines), partitioned by day with
// projection (constructs/catalog).
func (a *Analytics) addTables(cfg *config.Config, st *Storage, start string) {
	for _, d := range cfg.Datasets {
		name := queries.QuarantineTable(d)
		a.Tables[name] = catalog.NewTable(a.Stack, "QuarantineTable-"+d.Name, catalog.TableProps{
			Database: a.Database, Name: name,
			Description: "Records of " + d.Name + " the raw->processed job quarantined, with _quarantine_reason; dt is the run date",
			Columns:     queries.QuarantineColumns(d), Bucket: st.Processed, Prefix: layout.QuarantineOf(d.Name),
			Format: awsglue.DataFormat_JSON(), Compressed: true, ProjectionStart: start,
		})
	}
}

// addCurated lists the curated Iceberg tables of the processing stack for
// BI tools, in declaration order (daily tables, then joins), with their
// columns.
func (a *Analytics) addCurated(cfg *config.Config, processing *Processing) {
	add := func(name string, cols []dataset.TableColumn) {
		a.CuratedTables = append(a.CuratedTables, name)
		a.curated = append(a.curated, bi.Table{Name: name, Columns: cols, Table: processing.CuratedTables[name]})
	}
	for _, d := range cfg.Datasets {
		add(dataset.DailyTable(d), dataset.DailyColumns(d))
	}
	for _, j := range cfg.Joins {
		cols, err := dataset.JoinColumns(j, cfg.Datasets)
		if err != nil {
			panic(err) // config validation already checked the join
		}
		add(j.Name, cols)
	}
}

// addNamedQueries saves queries/*.sql, rendered per dataset and join, in
// the workgroup. They run in the Athena database.
func (a *Analytics) addNamedQueries(cfg *config.Config) {
	qs, err := queries.Render(cfg.Datasets, cfg.Joins, cfg.DataCatalogDatabaseName)
	if err != nil {
		panic(err)
	}
	for _, q := range qs {
		nq := a.WorkGroup.SaveQuery(a.Stack, queryID(q.Template)+"-"+q.Subject, q.Name, q.Description, cfg.AthenaDatabaseName, q.SQL)
		a.NamedQueries = append(a.NamedQueries, nq)
	}
}

// queryID turns a template name (dataset_daily_volume, join_sample) into
// a construct id (DailyVolume, Sample); DailyVolume-<dataset> is the id the
// first version of this stack used.
func queryID(template string) string {
	_, rest, _ := strings.Cut(template, "_")
	id := ""
	for _, w := range strings.Split(rest, "_") {
		if w != "" {
			id += strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return id
}

// addQuickSight connects QuickSight to the workgroup: an Athena data source
// with its own role and one DIRECT_QUERY dataset per curated table, owned
// by the configured principal only.
func (a *Analytics) addQuickSight(cfg *config.Config, st *Storage) {
	qs := bi.NewQuickSight(a.Stack, bi.QuickSightProps{
		Prefix: cfg.Prefix(), Principal: cfg.QuickSight.PrincipalArn,
		WorkGroup: a.WorkGroup, Results: st.AthenaResults,
		Tables: a.curated,
	})
	a.QuickSightRole = qs.Role
	output(a.Stack, "QuickSightDataSourceArn", qs.DataSource.AttrArn(), "QuickSight data source over the Athena workgroup")
}

// addSpectrum creates the role an existing Redshift (serverless namespace
// or provisioned cluster, named in config) assumes to read the curated
// zone through the Glue catalog, and prints the statements to run.
func (a *Analytics) addSpectrum(cfg *config.Config) {
	rs := cfg.Redshift
	sp := bi.NewSpectrum(a.Stack, bi.SpectrumProps{
		Prefix: cfg.Prefix(), Type: rs.Type, Name: rs.Name,
		Database: cfg.DataCatalogDatabaseName, Tables: a.curated,
	})
	a.SpectrumRole = sp.Role
	output(a.Stack, "SpectrumRoleArn", sp.Role.RoleArn(), "IAM role to associate with Redshift "+rs.Name)
	output(a.Stack, "SpectrumExternalSchema", sp.ExternalSchemaSQL, "Run in Redshift "+rs.Name+" after associating the role")
	output(a.Stack, "SpectrumAssociateRole", sp.AssociateCommand, "Associates the role with Redshift "+rs.Name)
}
