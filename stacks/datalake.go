// Package stacks composes the data lake: one file per stack, and NewDataLake,
// the one builder that sandbox mode (App) and pipeline mode (Stage) share.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
)

// Layers are the five stacks, in deployment order. The stack id is the
// CloudFormation stack name: ${project}-${environment}-<layer>.
var Layers = []string{"storage", "ingestion", "processing", "analytics", "observability"}

// Options are the choices made on the command line rather than in config.
type Options struct {
	// DefaultAccount is used when the environment does not pin `account`
	// (sandbox: the CLI's credentials). Default: env-agnostic.
	DefaultAccount string
	// DestroyConfirmed is the second half of the destroy opt-in
	// (`-c confirm_destroy=<environment>`). Default: false.
	DestroyConfirmed bool
	// PipelineAccount is the account of the release pipeline; when set, the
	// ingestion stack creates the role its smoke test assumes.
	// Default: "" (sandbox mode, no role).
	PipelineAccount string
	// Files are the repository files the stacks ship (job scripts, lakelib,
	// DMS settings, validator source), loaded by assets.Load. Required.
	Files *assets.Files
}

// DataLake is one environment's five stacks.
type DataLake struct {
	Storage       *Storage
	Ingestion     *Ingestion
	Processing    *Processing
	Analytics     *Analytics
	Observability *Observability
}

// Stacks returns the five stacks in deployment order.
func (d *DataLake) Stacks() []awscdk.Stack {
	return []awscdk.Stack{d.Storage.Stack, d.Ingestion.Stack, d.Processing.Stack, d.Analytics.Stack, d.Observability.Stack}
}

// Destroyable reports whether data may be deleted: only a non-production
// environment whose config allows it and whose deployer confirmed it.
func Destroyable(cfg *config.Config, opts Options) bool {
	return cfg.AllowDestroy && opts.DestroyConfirmed && !cfg.IsProduction()
}

// NewDataLake builds the five stacks of one environment in scope (an App in
// sandbox mode, a Stage in pipeline mode). References between stacks are
// typed Go values; dependencies point one way:
// storage <- ingestion, processing, analytics <- observability.
func NewDataLake(scope constructs.Construct, cfg *config.Config, opts Options) *DataLake {
	if opts.Files == nil {
		panic("stacks: NewDataLake needs Options.Files (assets.Load)")
	}
	account := cfg.Account
	if account == "" {
		account = opts.DefaultAccount
	}
	env := &awscdk.Environment{Region: jsii.String(cfg.Region)}
	if account != "" {
		env.Account = jsii.String(account)
	}
	stackProps := func(layer, description string) awscdk.StackProps {
		return awscdk.StackProps{
			StackName:   jsii.String(cfg.StackName(layer)),
			Env:         env,
			Description: jsii.String(description + " (" + cfg.Prefix() + ")"),
			// Production stacks cannot be deleted by a stray `cdk destroy`.
			TerminationProtection: jsii.Bool(cfg.IsProduction()),
		}
	}
	destroy := Destroyable(cfg, opts)

	d := &DataLake{}
	d.Storage = NewStorage(scope, cfg.StackName("storage"), StorageProps{
		StackProps: stackProps("storage", "Data lake storage: KMS key, zone buckets, private network"),
		Config:     cfg,
		Destroy:    destroy,
	})
	d.Ingestion = NewIngestion(scope, cfg.StackName("ingestion"), IngestionProps{
		StackProps:       stackProps("ingestion", "Data lake ingestion: Kinesis, Firehose, validator, REST API, DMS"),
		Config:           cfg,
		Storage:          d.Storage,
		Destroy:          destroy,
		SmokeTestAccount: opts.PipelineAccount,
		Files:            opts.Files,
	})
	d.Processing = NewProcessing(scope, cfg.StackName("processing"), ProcessingProps{
		StackProps: stackProps("processing", "Data lake processing: Glue catalog, crawlers, ETL, quality, orchestration"),
		Config:     cfg,
		Storage:    d.Storage,
		Destroy:    destroy,
		Files:      opts.Files,
	})
	d.Analytics = NewAnalytics(scope, cfg.StackName("analytics"), AnalyticsProps{
		StackProps: stackProps("analytics", "Data lake analytics: Athena workgroup, database, named queries"),
		Config:     cfg,
		Storage:    d.Storage,
		Processing: d.Processing,
		Destroy:    destroy,
	})
	d.Observability = NewObservability(scope, cfg.StackName("observability"), ObservabilityProps{
		StackProps: stackProps("observability", "Data lake observability: alarms, dashboard, audit trail, budgets"),
		Config:     cfg,
		Watched:    d.watched(),
		Destroy:    destroy,
	})

	for _, s := range d.Stacks() {
		tag(s, cfg)
		compliance.Gate(s, !destroy)
	}
	return d
}

// watched is what observability watches, from the other four stacks.
func (d *DataLake) watched() Watched {
	st, in, p := d.Storage, d.Ingestion, d.Processing
	return Watched{
		Key: st.Key, Raw: st.Raw, Processed: st.Processed, Curated: st.Curated, AccessLogs: st.AccessLogs,
		Stream: in.Stream, DeliveryStream: in.DeliveryStream, Validator: in.Validator, Api: in.Api,
		ReplicationTaskArn: in.ReplicationTaskArn,
		Jobs:               p.Jobs, CrawlerNames: p.CrawlerNames, EmrApplicationId: p.EmrApplicationId,
		WorkGroup: d.Analytics.WorkGroup,
	}
}

// tag puts the ownership and classification tags on every resource of a
// stack. Zone buckets override data-classification with their own.
func tag(s awscdk.Stack, cfg *config.Config) {
	tags := awscdk.Tags_Of(s)
	for k, v := range map[string]string{
		"project":             cfg.Project,
		"environment":         cfg.Environment.Environment,
		"owner":               cfg.Owner,
		"cost-center":         cfg.CostCenter,
		"managed-by":          "aws-cdk",
		"data-classification": highest(cfg.RawClassification, cfg.ProcessedClassification, cfg.CuratedClassification),
		CostAllocationTag:     cfg.Prefix(),
	} {
		tags.Add(jsii.String(k), jsii.String(v), nil)
	}
}

// highest returns the most sensitive classification (order of
// dataset.Classifications), the safe default for shared resources.
func highest(cls ...string) string {
	rank := map[string]int{"public": 0, "internal": 1, "confidential": 2, "restricted": 3}
	best := cls[0]
	for _, c := range cls[1:] {
		if rank[c] > rank[best] {
			best = c
		}
	}
	return best
}
