package stacks

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/ingestapi"
	"github.com/example/datalake/constructs/rawdelivery"
	"github.com/example/datalake/constructs/replication"
	"github.com/example/datalake/constructs/validator"
	"github.com/example/datalake/layout"
)

// IngestionProps configure the ingestion stack.
type IngestionProps struct {
	StackProps awscdk.StackProps
	Config     *config.Config
	Storage    *Storage
	// Destroy lets `cdk destroy` delete the stream and log groups.
	// Default: false (retain).
	Destroy bool
	// SmokeTestAccount may assume the smoke-test role (the pipeline's
	// account). Default: "" (no role).
	SmokeTestAccount string
	// Files locate the validator's source and the DMS settings. Required.
	Files *assets.Files
}

// Ingestion owns the path from producers to the raw zone.
type Ingestion struct {
	Stack          awscdk.Stack
	Stream         awskinesis.IStream
	DeliveryStream awskinesisfirehose.IDeliveryStream
	// Validator is the Firehose processor that checks records against
	// their dataset declaration, with its metrics.
	Validator *validator.Validator
	// Api is the REST API in front of the stream (POST /v1/ingest/...).
	Api awsapigateway.RestApi
	// FirehoseLogGroup receives Firehose delivery errors.
	FirehoseLogGroup awslogs.ILogGroup
	// ReplicationTaskArn is the DMS task (nil unless dms.enabled).
	ReplicationTaskArn *string
	// Outputs the pipeline's smoke test reads (role output only in
	// pipeline mode).
	StreamNameOutput, SmokeTestRoleOutput awscdk.CfnOutput
}

// NewIngestion builds the ingestion stack.
func NewIngestion(scope constructs.Construct, id string, props IngestionProps) *Ingestion {
	cfg, st := props.Config, props.Storage
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	in := &Ingestion{Stack: stack}
	removal := removalPolicy(props.Destroy)

	v := validator.New(stack, "Validator", validator.Props{
		ModuleDir: props.Files.Root, Package: assets.ValidatorPackage,
		Datasets: cfg.Datasets, Environment: cfg.Prefix(), Key: st.Key,
		LogRetention: retention(cfg.LogRetentionDays), RemovalPolicy: removal,
		// No reservation unless config asks for one (validator.Props).
		ReservedConcurrency: float64(cfg.ValidatorReservedConcurrency),
	})
	in.Validator = v

	shards := cfg.ShardCount
	if cfg.StreamMode == config.StreamOnDemand {
		shards = 0
	}
	raw := rawdelivery.New(stack, rawdelivery.Props{
		Key: st.Key, Raw: st.Raw, Processor: v.Function,
		DataPrefix: layout.FirehosePrefix, ErrorPrefix: layout.ErrorOutputPrefix,
		ShardCount:              shards,
		Retention:               awscdk.Duration_Hours(jsii.Number(float64(cfg.RetentionPeriod))),
		BufferInterval:          awscdk.Duration_Seconds(jsii.Number(float64(cfg.FirehoseBufferSeconds))),
		BufferSize:              awscdk.Size_Mebibytes(jsii.Number(float64(cfg.FirehoseBufferMB))),
		ProcessorBufferInterval: awscdk.Duration_Seconds(jsii.Number(FirehoseProcessorBufferSeconds)),
		LogRetention:            retention(cfg.LogRetentionDays),
		Removal:                 removal,
	})
	stream, delivery := raw.Stream, raw.DeliveryStream
	in.Stream, in.DeliveryStream, in.FirehoseLogGroup = stream, delivery, raw.LogGroup

	in.StreamNameOutput = output(stack, "StreamName", stream.StreamName(), "Kinesis stream producers write to")
	output(stack, "DeliveryStreamName", delivery.DeliveryStreamName(), "Firehose stream into the raw zone")

	api := ingestapi.New(stack, ingestapi.Props{
		Prefix: cfg.Prefix(), Datasets: cfg.Datasets, Stream: stream, Key: st.Key,
		LogRetention: retention(cfg.LogRetentionDays), RemovalPolicy: removal,
		RateLimit: float64(cfg.ApiRateLimit), BurstLimit: float64(cfg.ApiBurstLimit),
		QuotaPerDay: float64(cfg.ApiQuotaPerDay), WAF: config.Bool(cfg.EnableWAF),
	})
	in.Api = api.Api
	if api.ApiKey != nil {
		output(stack, APIKeyOutputID, api.ApiKey.KeyId(), "API key producers send as x-api-key (value: aws apigateway get-api-key --include-value)")
	}
	output(stack, "ApiUrl", in.Api.Url(), "Ingestion API: POST <ApiUrl>ingest/<dataset> or <ApiUrl>ingest/<dataset>/batch (SigV4)")
	if cfg.DMS.Enabled {
		in.ReplicationTaskArn = newReplication(stack, cfg, st, stream, props.Files.DMSTaskSettings)
	}

	if props.SmokeTestAccount != "" {
		// The pipeline's smoke test posts one record through the API (or the
		// stream) and looks for it in the raw zone.
		role := awsiam.NewRole(stack, jsii.String("SmokeTestRole"), &awsiam.RoleProps{
			RoleName: jsii.String(cfg.Prefix() + "-smoke-test"),
			// Only the pipeline's own roles (CodeBuild steps of the
			// ${project}-pipeline stack), not every principal of that account.
			AssumedBy: awsiam.NewAccountPrincipal(jsii.String(props.SmokeTestAccount)).WithConditions(&map[string]interface{}{
				"ArnLike": map[string]interface{}{"aws:PrincipalArn": "arn:*:iam::" + props.SmokeTestAccount + ":role/" + cfg.Project + "-pipeline-*"},
			}),
			Description:        jsii.String("Assumed by the release pipeline's smoke test"),
			MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
		})
		stream.GrantWrite(role)
		st.Raw.GrantRead(role, jsii.String(layout.SourceKey+"=*"))
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("execute-api:Invoke"),
			Resources: jsii.Strings(*in.Api.ArnForExecuteApi(jsii.String("POST"), jsii.String("/ingest/*"), in.Api.DeploymentStage().StageName())),
		}))
		if cfg.ApiQuotaPerDay > 0 {
			// The smoke test reads the API key's value to send it.
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("apigateway:GET"),
				Resources: jsii.Strings("arn:" + *stack.Partition() + ":apigateway:" + *stack.Region() + "::/apikeys/*"),
			}))
		}
		compliance.GrantWildcards(role, "the smoke test lists and reads the raw zone to find its record.", idRaw)
		compliance.Suppress(role, compliance.Suppression{
			ID:             "AwsSolutions-IAM5",
			Reason:         "The smoke test may POST to any dataset's ingest route of this API's stage, and read (GET) this region's API keys to send the usage-plan key; nothing else.",
			AppliesToRegex: []string{`/^Resource::arn:.*:execute-api:.*\/POST\/ingest\/\*$/g`, `/^Resource::arn:.*:apigateway:.*::\/apikeys\/\*$/g`},
		})
		in.SmokeTestRoleOutput = output(stack, "SmokeTestRoleArn", role.RoleArn(), "Role the pipeline smoke test assumes")
	}
	return in
}

// newReplication builds the config block `dms` (constructs/replication) and
// returns the task's ARN.
func newReplication(stack awscdk.Stack, cfg *config.Config, st *Storage, stream awskinesis.IStream, taskSettings string) *string {
	d := cfg.DMS
	r := replication.New(stack, replication.Props{
		Prefix: cfg.Prefix(), Vpc: st.Vpc, Key: st.Key,
		SourceSecretName: d.SourceSecretName, SourceEngine: d.SourceEngine,
		SourceDatabase: d.SourceDatabase, SourceSchema: d.SourceSchema, Tables: d.Tables,
		Target: d.Target, Stream: stream, Raw: st.Raw,
		InstanceClass: d.InstanceClass, AllocatedStorageGB: d.AllocatedStorageGB,
		MultiAZ: cfg.IsProduction(), TaskSettings: taskSettings,
	})
	output(stack, "ReplicationTaskArn", r.TaskArn(), "DMS task (start it with aws dms start-replication-task)")
	return r.TaskArn()
}

// DMSLandingPath is the prefix the s3 target writes a table's files under,
// or "" when the dataset is not replicated to S3.
func DMSLandingPath(cfg *config.Config, datasetName string) string {
	if !cfg.DMS.Enabled || cfg.DMS.Target != "s3" || !slices.Contains(cfg.DMS.Tables, datasetName) {
		return ""
	}
	return layout.DMSTable(cfg.DMS.SourceSchema, datasetName)
}
