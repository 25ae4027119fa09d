// Package gofunction builds a Go Lambda function without Docker: the asset
// is bundled locally with `go build` for linux/arm64 and CGO off, and extra
// files (e.g. the dataset declarations) are written next to the binary.
package gofunction

import (
	"os"
	"os/exec"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
)

// Props configure the function.
type Props struct {
	// ModuleDir is the Go module root; Package is the main package's path
	// inside it (e.g. "./functions/validator"). Required.
	ModuleDir, Package string
	// Files are written into the bundle next to the `bootstrap` binary
	// (name -> content). Their content is part of the asset hash.
	Files map[string][]byte
	// Environment variables of the function.
	Environment map[string]string
	// Timeout default: 60 s. MemoryMB default: 256.
	Timeout  awscdk.Duration
	MemoryMB float64
	// ReservedConcurrency caps concurrent executions. Default: 0 = no cap.
	ReservedConcurrency float64
	// Key encrypts the log group and the environment. Required.
	Key awskms.IKey
	// LogRetention of the function's log group. Required.
	LogRetention awslogs.RetentionDays
	// RemovalPolicy of the log group. Default: retain.
	RemovalPolicy awscdk.RemovalPolicy
	Description   string
}

// New returns the function.
func New(scope constructs.Construct, id string, p Props) awslambda.Function {
	if p.Timeout == nil {
		p.Timeout = awscdk.Duration_Seconds(jsii.Number(60))
	}
	if p.MemoryMB == 0 {
		p.MemoryMB = 256
	}
	if p.RemovalPolicy == "" {
		p.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	logs := awslogs.NewLogGroup(scope, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
		EncryptionKey: p.Key,
		Retention:     p.LogRetention,
		RemovalPolicy: p.RemovalPolicy,
	})
	// Our own role instead of the AWSLambdaBasicExecutionRole managed
	// policy: it may write only to this function's log group.
	role := awsiam.NewRole(scope, jsii.String(id+"Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of " + id),
	})
	logs.GrantWrite(role)
	env := map[string]*string{}
	for k, v := range p.Environment {
		env[k] = jsii.String(v)
	}
	props := &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		// The asset's source is the package folder (small to stage); the
		// bundler builds from the module root.
		Code: awslambda.Code_FromAsset(jsii.String(filepath.Join(p.ModuleDir, p.Package)), &awss3assets.AssetOptions{
			// Hash the sources, not the build output.
			AssetHashType: awscdk.AssetHashType_CUSTOM,
			AssetHash:     jsii.String(sourceHash(p)),
			Bundling: &awscdk.BundlingOptions{
				// Docker is never used: the local bundler always succeeds or
				// fails loudly. The image is required by the type only.
				Image: awscdk.DockerImage_FromRegistry(jsii.String("docker-is-not-used")),
				Local: &localBundler{dir: p.ModuleDir, pkg: p.Package, files: p.Files},
			},
		}),
		Timeout:               p.Timeout,
		MemorySize:            jsii.Number(p.MemoryMB),
		Environment:           &env,
		EnvironmentEncryption: p.Key,
		LogGroup:              logs,
		Role:                  role,
		Description:           jsii.String(p.Description),
		Tracing:               awslambda.Tracing_ACTIVE,
	}
	if p.ReservedConcurrency > 0 {
		props.ReservedConcurrentExecutions = jsii.Number(p.ReservedConcurrency)
	}
	fn := awslambda.NewFunction(scope, jsii.String(id), props)
	compliance.Suppress(role, compliance.Suppression{
		ID:        "AwsSolutions-IAM5",
		Reason:    "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so the CDK grants them on *.",
		AppliesTo: []string{"Resource::*"},
	})
	return fn
}

// localBundler implements awscdk.ILocalBundling. It must be used through a
// pointer and not be zero-sized (jsii tracks Go objects by address). Its
// fields stay unexported: jsii hands exported ones to JavaScript, where the
// CDK's asset hash serializes the bundling options, so an absolute dir made
// every checkout path a different asset (a Lambda update per pipeline run).
type localBundler struct {
	dir, pkg string
	files    map[string][]byte
}

// TryBundle builds the binary into outputDir. A failed build panics with
// the compiler's output rather than falling back to Docker.
func (b *localBundler) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-tags", "lambda.norpc",
		"-o", filepath.Join(*outputDir, "bootstrap"), b.pkg)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		panic("gofunction: go build " + b.pkg + ": " + err.Error() + "\n" + string(out))
	}
	for name, content := range b.files {
		if err := os.WriteFile(filepath.Join(*outputDir, name), content, 0o644); err != nil {
			panic("gofunction: " + err.Error())
		}
	}
	return jsii.Bool(true)
}
