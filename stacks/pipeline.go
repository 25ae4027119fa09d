package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/assets"
	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/dataset"
)

// Pipeline is the self-mutating CDK Pipeline that releases the lake.
type Pipeline struct {
	Stack    awscdk.Stack
	Pipeline pipelines.CodePipeline
	// Lakes are the environments it deploys, in order.
	Lakes []*DataLake
	// ArtifactBucket holds the pipeline's artifacts (SSE-KMS with
	// ArtifactKey, access-logged to ArtifactLogBucket).
	ArtifactBucket    awss3.IBucket
	ArtifactKey       awskms.IKey
	ArtifactLogBucket awss3.IBucket
	// FailureTopic receives a notification when a pipeline execution
	// fails. It lives in the pipeline (tooling) account: the environments'
	// alarm topics are in other accounts. Subscribe to it after deploy.
	FailureTopic awssns.ITopic
}

// GoToolchain pins the Go version the pipeline builds with; the go command
// fetches it from the module proxy when the build image's Go is older.
const GoToolchain = "go1.26.8"

// NewPipeline builds `${project}-pipeline`, the only top-level stack in
// pipeline mode. Each stage runs NewDataLake, the same builder as sandbox
// mode, so every environment has the same five stack names.
func NewPipeline(scope constructs.Construct, p *config.Pipeline, files *assets.Files) *Pipeline {
	name := p.Project + "-pipeline"
	stack := awscdk.NewStack(scope, jsii.String(name), &awscdk.StackProps{
		StackName:   jsii.String(name),
		Env:         &awscdk.Environment{Account: jsii.String(p.Account), Region: jsii.String(p.Region)},
		Description: jsii.String("Self-mutating release pipeline of the " + p.Project + " data lake"),
	})
	out := &Pipeline{Stack: stack}

	source := pipelines.CodePipelineSource_Connection(jsii.String(p.Repository), jsii.String(p.Branch),
		&pipelines.ConnectionSourceOptions{ConnectionArn: jsii.String(p.ConnectionArn)})
	// The synth step runs the README's own commands: the full test suite
	// first, so a red test stops the release before anything deploys.
	synth := pipelines.NewCodeBuildStep(jsii.String("Synth"), &pipelines.CodeBuildStepProps{
		Input: source,
		Env:   &map[string]*string{"GOTOOLCHAIN": jsii.String(GoToolchain), "CI": jsii.String("true")},
		// The standard image has Node.js, npm and pip; `make test` installs
		// the pinned Node.js and CDK CLI itself (make tools) and needs
		// cfn-lint at the version the developers' machines run.
		InstallCommands: jsii.Strings(
			"go version",
			"pip install --quiet cfn-lint==1.51.0",
		),
		Commands: jsii.Strings(
			"make test",
			"make synth-pipeline",
		),
		PrimaryOutputDirectory: jsii.String("cdk.out"),
	})
	out.ArtifactKey, out.ArtifactBucket, out.ArtifactLogBucket = artifactStore(stack)
	cp := pipelines.NewCodePipeline(stack, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName: jsii.String(name),
		// V2: the current pipeline type (V1 is only the implicit default).
		PipelineType: awscodepipeline.PipelineType_V2,
		Synth:        synth,
		SelfMutation: jsii.Bool(true),
		// Our own bucket and key instead of CrossAccountKeys: the same
		// KMS-encrypted store the target accounts are granted on, plus
		// server access logs, which the generated bucket cannot have.
		ArtifactBucket: out.ArtifactBucket,
		CodeBuildDefaults: &pipelines.CodeBuildOptions{
			BuildEnvironment: &awscodebuild.BuildEnvironment{
				BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_7_0(),
				ComputeType: awscodebuild.ComputeType_MEDIUM,
			},
		},
	})
	out.Pipeline = cp

	for i, cfg := range p.Envs {
		st := p.Stages[i]
		stage := awscdk.NewStage(stack, jsii.String(cfg.Name), &awscdk.StageProps{
			Env: &awscdk.Environment{Account: jsii.String(cfg.Account), Region: jsii.String(cfg.Region)},
		})
		lake := NewDataLake(stage, cfg, Options{PipelineAccount: p.Account, Files: files})
		out.Lakes = append(out.Lakes, lake)
		opts := &pipelines.AddStageOpts{Post: &[]pipelines.Step{smokeTest(cfg, lake)}}
		if config.Bool(st.Approval) {
			// The approval waits for the diff (Pre steps run in parallel
			// unless they depend on each other), so the reviewer reads a
			// finished diff before approving.
			diff := diffStep(cfg, source, synth)
			approve := pipelines.NewManualApprovalStep(jsii.String("Approve-"+cfg.Name), &pipelines.ManualApprovalStepProps{
				Comment: jsii.String(fmt.Sprintf("Review the Diff-%s step's log (every %s stack against what is deployed), then approve.", cfg.Name, cfg.Name)),
			})
			approve.AddStepDependency(diff)
			opts.Pre = &[]pipelines.Step{diff, approve}
		}
		cp.AddStage(stage, opts)
	}
	cp.BuildPipeline()
	out.FailureTopic = failureNotifications(stack, cp.Pipeline(), p.AlarmEmailAddress)
	suppressPipelineFindings(cp)
	compliance.Gate(stack, false)
	return out
}

// artifactStore builds the pipeline's artifact bucket: SSE-KMS with a
// rotated key (the target accounts' deploy roles are granted on it by CDK
// Pipelines, which needs a customer key to cross accounts), TLS only, no
// public access, and server access logs in a log bucket of its own.
func artifactStore(stack awscdk.Stack) (awskms.IKey, awss3.IBucket, awss3.IBucket) {
	key := awskms.NewKey(stack, jsii.String("ArtifactKey"), &awskms.KeyProps{
		Description:       jsii.String("Pipeline artifacts (cross-account)"),
		EnableKeyRotation: jsii.Bool(true),
	})
	// Access-log delivery does not support SSE-KMS targets: SSE-S3 here.
	logs := awss3.NewBucket(stack, jsii.String("ArtifactAccessLogs"), &awss3.BucketProps{
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		Versioned:         jsii.Bool(true),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Expiration:                  awscdk.Duration_Days(jsii.Number(365)),
			NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
		}},
	})
	compliance.Suppress(logs, compliance.Suppression{
		ID:     "AwsSolutions-S1",
		Reason: "This is the access-log bucket of the artifact bucket; logging it to itself would log its own log deliveries.",
	})
	bucket := awss3.NewBucket(stack, jsii.String("ArtifactBucket"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          key,
		BucketKeyEnabled:       jsii.Bool(true),
		EnforceSSL:             jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("artifacts/"),
		// Artifacts are needed while an execution runs; old ones only
		// cost money. A year covers any audit of a release's inputs.
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(365))}},
	})
	return key, bucket, logs
}

// failureNotifications sends "pipeline execution failed" to a KMS-encrypted,
// TLS-only SNS topic in the pipeline account through a CodeStar
// Notifications rule.
func failureNotifications(stack awscdk.Stack, pipeline awscodepipeline.IPipeline, email string) awssns.ITopic {
	key := awskms.NewKey(stack, jsii.String("NotificationKey"), &awskms.KeyProps{
		Description:       jsii.String("Pipeline failure notifications"),
		EnableKeyRotation: jsii.Bool(true),
	})
	// CodeStar Notifications publishes to an encrypted topic only when the
	// key lets it encrypt through SNS (documented key policy statement;
	// there is no grant method for a service principal limited by ViaService).
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CodeStarNotificationsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("codestar-notifications.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:GenerateDataKey*", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"kms:ViaService": "sns." + *stack.Region() + ".amazonaws.com"}},
	}), nil)
	topic := awssns.NewTopic(stack, jsii.String("FailureTopic"), &awssns.TopicProps{
		DisplayName: jsii.String(*stack.StackName() + " failures"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// NotifyOn adds the topic policy that lets CodeStar Notifications publish.
	pipeline.NotifyOn(jsii.String("ExecutionFailed"), topic, &awscodepipeline.PipelineNotifyOnOptions{
		Events: &[]awscodepipeline.PipelineNotificationEvents{awscodepipeline.PipelineNotificationEvents_PIPELINE_EXECUTION_FAILED},
	})
	topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	output(stack, "FailureTopicArn", topic.TopicArn(), "Pipeline failure notifications (delivery.alarm_email_address is subscribed)")
	return topic
}

// diffStep prints `cdk diff` of every stack of the environment against what
// is deployed, before its approval. It runs the Makefile of the source on
// the synthesized cloud assembly (the synth step's output, in cdk.out/) and
// reads deployed templates through the target account's bootstrap lookup
// role (trusted by `cdk bootstrap --trust`).
func diffStep(cfg *config.Config, source pipelines.IFileSetProducer, synth pipelines.CodeBuildStep) pipelines.Step {
	lookupRole := fmt.Sprintf("arn:aws:iam::%s:role/cdk-hnb659fds-lookup-role-%s-%s", cfg.Account, cfg.Account, cfg.Region)
	return pipelines.NewCodeBuildStep(jsii.String("Diff-"+cfg.Name), &pipelines.CodeBuildStepProps{
		Input:            source,
		AdditionalInputs: &map[string]pipelines.IFileSetProducer{"cdk.out": synth.PrimaryOutput()},
		Env:              &map[string]*string{"GOTOOLCHAIN": jsii.String(GoToolchain)},
		Commands: jsii.Strings(
			fmt.Sprintf("make diff-pipeline STAGE=%s", cfg.Name),
		),
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(lookupRole),
		})},
	})
}

// smokeTest sends a record of the first dataset (built from its
// declaration) into the environment
// and waits for it in the raw zone, through a role the ingestion stack
// created for this account. The record goes through the REST API when the
// ingestion stack has an `ApiUrl` output (the producers' path), otherwise
// straight onto the stream.
func smokeTest(cfg *config.Config, lake *DataLake) pipelines.Step {
	outputs := map[string]awscdk.CfnOutput{
		"STREAM_NAME":     lake.Ingestion.StreamNameOutput,
		"RAW_BUCKET":      lake.Storage.RawBucketOutput,
		"SMOKE_TEST_ROLE": lake.Ingestion.SmokeTestRoleOutput,
	}
	for env, id := range map[string]string{"API_URL": APIURLOutputID, "API_KEY_ID": APIKeyOutputID} {
		if o := ingestionOutput(lake, id); o != nil {
			outputs[env] = o
		}
	}
	return pipelines.NewCodeBuildStep(jsii.String("SmokeTest-"+cfg.Name), &pipelines.CodeBuildStepProps{
		EnvFromCfnOutputs: &outputs,
		Env: &map[string]*string{
			"DATASET": jsii.String(cfg.Datasets[0].Name),
			// A record valid for that dataset's declaration, with the
			// placeholders the script fills in (dataset.SampleRecord).
			"RECORD_TEMPLATE": jsii.String(dataset.SampleRecord(cfg.Datasets[0])),
			"TIMEOUT_SECONDS": jsii.String(fmt.Sprint(SmokeTestTimeoutSeconds(cfg.FirehoseBufferSeconds))),
		},
		Commands: jsii.Strings("bash scripts/smoke-test.sh"),
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:iam::%s:role/%s-smoke-test", cfg.Account, cfg.Prefix())),
		})},
	})
}

// SmokeTestMarginSeconds covers what follows the buffers: the validator's
// run, the S3 write and the smoke test's own polling interval.
const SmokeTestMarginSeconds = 120

// SmokeTestTimeoutSeconds is how long the smoke test waits for its record
// in the raw zone: with dynamic partitioning the end-to-end delay "might be
// 1.5 times of the configured buffering hint time" (Firehose developer
// guide, buffering.html), after the processor's own buffer
// (FirehoseProcessorBufferSeconds) and a margin.
func SmokeTestTimeoutSeconds(bufferSeconds int) int {
	return (3*bufferSeconds+1)/2 + FirehoseProcessorBufferSeconds + SmokeTestMarginSeconds
}

// Construct ids of the ingestion stack's outputs the smoke test reads when
// they exist: the REST API's URL (the smoke test posts through the API) and
// its API key (only with a usage plan).
const (
	APIURLOutputID = "ApiUrl"
	APIKeyOutputID = "ApiKeyId"
)

// ingestionOutput finds an output of the ingestion stack by id, or nil.
func ingestionOutput(lake *DataLake, id string) awscdk.CfnOutput {
	if o, ok := lake.Ingestion.Stack.Node().TryFindChild(jsii.String(id)).(awscdk.CfnOutput); ok {
		return o
	}
	return nil
}

// suppressPipelineFindings records the IAM5 findings of the roles CDK
// Pipelines generates inside the construct, each named: CDK grant action
// families on the artifact bucket and key, the generated CodeBuild log and
// report groups, the bootstrap roles of the target accounts (assumed only
// when tagged aws-cdk:bootstrap-role), and two actions without
// resource-level permissions (cloudformation:DescribeStacks and
// codebuild:BatchGetBuilds/StartBuild/StopBuild on the asset projects).
func suppressPipelineFindings(cp pipelines.CodePipeline) {
	compliance.Suppress(cp, compliance.Suppression{
		ID:        "AwsSolutions-IAM5",
		Reason:    "Roles generated by CDK Pipelines: grant action families on the pipeline's artifact bucket objects and key; CodeBuild log and report groups named after their projects; the target accounts' bootstrap roles (condition on the aws-cdk:bootstrap-role tag); DescribeStacks and the asset projects' build actions, which the construct grants on *.",
		AppliesTo: compliance.GrantActions,
		AppliesToRegex: []string{
			`/^Resource::<ArtifactBucket[0-9A-F]+\.Arn>\/\*$/g`,
			`/^Resource::arn:<AWS::Partition>:logs:[a-z0-9-]+:[0-9]+:log-group:\/aws\/codebuild\/.*$/g`,
			`/^Resource::arn:<AWS::Partition>:codebuild:[a-z0-9-]+:[0-9]+:report-group\/.*$/g`,
			`/^Resource::arn:\*:iam::[0-9]+:role\/\*$/g`,
			`/^Resource::\*$/g`,
		},
	})
}
