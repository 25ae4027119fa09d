package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
)

// ProcessingProps configure the processing stack.
type ProcessingProps struct {
	StackProps awscdk.StackProps
	Config     *config.Config
	Storage    *Storage
	// Destroy lets `cdk destroy` delete the catalog database.
	// Default: false (retain).
	Destroy bool
}

// Processing owns the Glue catalog and the jobs that move data from raw to
// processed to curated.
type Processing struct {
	Stack    awscdk.Stack
	Database awsglue.IDatabase
	// SecurityConfiguration encrypts job logs, bookmarks and S3 writes with
	// the lake key.
	SecurityConfiguration awsglue.ISecurityConfiguration
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
}

// NewProcessing builds the processing stack.
func NewProcessing(scope constructs.Construct, id string, props ProcessingProps) *Processing {
	cfg, st := props.Config, props.Storage
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	p := &Processing{Stack: stack}

	db := awsglue.NewDatabase(stack, jsii.String("CatalogDatabase"), &awsglue.DatabaseProps{
		DatabaseName: jsii.String(cfg.DataCatalogDatabaseName),
		Description:  jsii.String("Tables of the raw, processed and curated zones of " + cfg.Prefix()),
	})
	if !props.Destroy {
		db.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	}
	p.Database = db

	p.SecurityConfiguration = awsglue.NewSecurityConfiguration(stack, jsii.String("SecurityConfiguration"), &awsglue.SecurityConfigurationProps{
		CloudWatchEncryption:   awsglue.CloudWatchEncryption_Kms(st.Key),
		JobBookmarksEncryption: awsglue.JobBookmarksEncryption_ClientSideKms(st.Key),
		S3Encryption:           awsglue.S3Encryption_Kms(st.Key),
	})

	output(stack, "CatalogDatabaseName", jsii.String(cfg.DataCatalogDatabaseName), "Glue catalog database of the lake tables")
	return p
}
