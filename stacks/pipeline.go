package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
)

// Pipeline is the self-mutating CDK Pipeline that releases the lake.
type Pipeline struct {
	Stack    awscdk.Stack
	Pipeline pipelines.CodePipeline
	// Lakes are the environments it deploys, in order.
	Lakes []*DataLake
}

// GoToolchain pins the Go version the pipeline builds with; the go command
// fetches it from the module proxy when the build image's Go is older.
const GoToolchain = "go1.26.8"

// NewPipeline builds `${project}-pipeline`, the only top-level stack in
// pipeline mode. Each stage runs NewDataLake, the same builder as sandbox
// mode, so every environment has the same five stack names.
func NewPipeline(scope constructs.Construct, p *config.Pipeline) *Pipeline {
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
		InstallCommands: jsii.Strings(
			"go version",
		),
		Commands: jsii.Strings(
			"make test",
			"make synth-pipeline",
		),
		PrimaryOutputDirectory: jsii.String("cdk.out"),
	})
	cp := pipelines.NewCodePipeline(stack, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName:      jsii.String(name),
		Synth:             synth,
		SelfMutation:      jsii.Bool(true),
		CrossAccountKeys:  jsii.Bool(true),
		EnableKeyRotation: jsii.Bool(true),
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
		lake := NewDataLake(stage, cfg, Options{PipelineAccount: p.Account})
		out.Lakes = append(out.Lakes, lake)
		opts := &pipelines.AddStageOpts{Post: &[]pipelines.Step{smokeTest(cfg, lake)}}
		if config.Bool(st.Approval) {
			opts.Pre = &[]pipelines.Step{diffStep(cfg), pipelines.NewManualApprovalStep(jsii.String("Approve-"+cfg.Name), &pipelines.ManualApprovalStepProps{
				Comment: jsii.String(fmt.Sprintf("Review the Diff-%s step's log (every %s stack against what is deployed), then approve.", cfg.Name, cfg.Name)),
			})}
		}
		cp.AddStage(stage, opts)
	}
	cp.BuildPipeline()
	suppressPipelineFindings(cp)
	compliance.Gate(stack, false)
	return out
}

// diffStep prints `cdk diff` of every stack of the environment against what
// is deployed, before its approval. It reads deployed templates through the
// target account's bootstrap lookup role.
func diffStep(cfg *config.Config) pipelines.Step {
	lookupRole := fmt.Sprintf("arn:aws:iam::%s:role/cdk-hnb659fds-lookup-role-%s-%s", cfg.Account, cfg.Account, cfg.Region)
	return pipelines.NewCodeBuildStep(jsii.String("Diff-"+cfg.Name), &pipelines.CodeBuildStepProps{
		Env: &map[string]*string{"GOTOOLCHAIN": jsii.String(GoToolchain)},
		Commands: jsii.Strings(
			fmt.Sprintf("make diff-pipeline STAGE=%s", cfg.Name),
		),
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(lookupRole),
		})},
	})
}

// smokeTest sends a record of the first dataset into the stack's stream
// and waits for it in the raw zone, through a role the ingestion stack
// created for this account.
func smokeTest(cfg *config.Config, lake *DataLake) pipelines.Step {
	return pipelines.NewCodeBuildStep(jsii.String("SmokeTest-"+cfg.Name), &pipelines.CodeBuildStepProps{
		EnvFromCfnOutputs: &map[string]awscdk.CfnOutput{
			"STREAM_NAME":     lake.Ingestion.StreamNameOutput,
			"RAW_BUCKET":      lake.Storage.RawBucketOutput,
			"SMOKE_TEST_ROLE": lake.Ingestion.SmokeTestRoleOutput,
		},
		Env:      &map[string]*string{"DATASET": jsii.String(cfg.Datasets[0].Name), "TIMEOUT_SECONDS": jsii.String(fmt.Sprint(cfg.FirehoseBufferSeconds + 300))},
		Commands: jsii.Strings("bash scripts/smoke-test.sh"),
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(fmt.Sprintf("arn:aws:iam::%s:role/%s-smoke-test", cfg.Account, cfg.Prefix())),
		})},
	})
}

// suppressPipelineFindings records the cdk-nag rules the CDK Pipelines
// construct cannot pass by design. They sit on the pipeline construct
// (the resources are generated inside it) with the reason for each.
func suppressPipelineFindings(cp pipelines.CodePipeline) {
	compliance.Suppress(cp,
		compliance.Suppression{ID: "AwsSolutions-IAM5", Reason: "CDK Pipelines generates the action and CodeBuild role policies: wildcards cover the artifact bucket's object keys, the generated log groups and the bootstrap roles (cdk-hnb659fds-*) of the target accounts, which are named only at deploy time."},
		compliance.Suppression{ID: "AwsSolutions-S1", Reason: "The artifact bucket holds short-lived build artifacts encrypted with the pipeline's KMS key; CodePipeline access is already recorded by CloudTrail."},
		compliance.Suppression{ID: "AwsSolutions-CB4", Reason: "CDK Pipelines' generated CodeBuild projects (synth, self-mutation, asset publishing) use the pipeline artifact key for their artifacts; the projects' own encryption key is not exposed by the construct."},
	)
}
