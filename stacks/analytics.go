package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
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
}

// Analytics owns what analysts touch: the Athena workgroup and database.
type Analytics struct {
	Stack     awscdk.Stack
	WorkGroup awsathena.CfnWorkGroup
	Database  awsglue.IDatabase
}

// NewAnalytics builds the analytics stack.
func NewAnalytics(scope constructs.Construct, id string, props AnalyticsProps) *Analytics {
	cfg, st := props.Config, props.Storage
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	a := &Analytics{Stack: stack}

	// Athena has no L2 construct in aws-cdk-lib; the L1 is set completely.
	a.WorkGroup = awsathena.NewCfnWorkGroup(stack, jsii.String("WorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(cfg.AthenaWorkgroupName),
		Description: jsii.String("Queries over the " + cfg.Prefix() + " data lake"),
		State:       jsii.String("ENABLED"),
		// Deleting a workgroup with saved queries must be deliberate.
		RecursiveDeleteOption: jsii.Bool(props.Destroy),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			RequesterPaysEnabled:            jsii.Bool(false),
			BytesScannedCutoffPerQuery:      jsii.Number(float64(cfg.AthenaBytesScannedCutoffMB) * 1024 * 1024),
			EngineVersion: &awsathena.CfnWorkGroup_EngineVersionProperty{
				SelectedEngineVersion: jsii.String("Athena engine version 3"),
			},
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + *st.AthenaResults.BucketName() + "/results/"),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_KMS"),
					KmsKey:           st.Key.KeyArn(),
				},
				ExpectedBucketOwner: stack.Account(),
			},
		},
	})

	db := awsglue.NewDatabase(stack, jsii.String("AthenaDatabase"), &awsglue.DatabaseProps{
		DatabaseName: jsii.String(cfg.AthenaDatabaseName),
		Description:  jsii.String("Analyst-facing views over the curated zone of " + cfg.Prefix()),
	})
	if !props.Destroy {
		db.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN)
	}
	a.Database = db

	for _, d := range cfg.Datasets {
		awsathena.NewCfnNamedQuery(stack, jsii.String("DailyVolume-"+d.Name), &awsathena.CfnNamedQueryProps{
			Name:        jsii.String(d.Name + ": daily volume"),
			Description: jsii.String("Records per day in the processed zone, last 30 days"),
			Database:    props.Processing.Database.DatabaseName(),
			WorkGroup:   a.WorkGroup.Ref(),
			QueryString: jsii.String("SELECT dt, count(*) AS records\nFROM " + d.Name + "\nWHERE dt >= date_format(current_date - interval '30' day, '%Y-%m-%d')\nGROUP BY dt\nORDER BY dt DESC"),
		})
	}

	output(stack, "WorkGroupName", a.WorkGroup.Ref(), "Athena workgroup to query the lake with")
	output(stack, "AthenaDatabaseName", jsii.String(cfg.AthenaDatabaseName), "Athena database of analyst views")
	return a
}
