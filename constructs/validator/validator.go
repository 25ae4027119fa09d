// Package validator is the record validator of the raw delivery: the Go
// Lambda (functions/validator) that Firehose calls for every batch, bundled
// without Docker with the dataset declarations beside it, and the metrics
// it publishes (RecordsAccepted, RecordsRejected) for alarms and dashboards.
//
// The function keeps the caller's scope and id (its log group is stateful).
package validator

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/gofunction"
	"github.com/example/datalake/dataset"
)

// MetricsNamespace holds RecordsAccepted and RecordsRejected (dimension
// Environment), as functions/validator publishes them (EMF).
const MetricsNamespace = "DataLake/Ingestion"

// Props configure the validator.
type Props struct {
	// ModuleDir is the Go module root and Package the validator's main
	// package inside it (e.g. "./functions/validator"). Required.
	ModuleDir, Package string
	// Datasets are bundled as datasets.json. Required.
	Datasets []dataset.Spec
	// Environment is the metrics' Environment dimension. Required.
	Environment string
	// Key encrypts the log group and the function's environment. Required.
	Key awskms.IKey
	// LogRetention of the log group. Required.
	LogRetention awslogs.RetentionDays
	// RemovalPolicy of the log group. Default: retain.
	RemovalPolicy awscdk.RemovalPolicy
	// ReservedConcurrency caps concurrent executions. Default: 0, none (a
	// reservation must leave 100 executions of the account unreserved, and a
	// new account's quota can be 10: Lambda developer guide,
	// configuration-concurrency).
	ReservedConcurrency float64
}

// Validator is the built function and its metrics.
type Validator struct {
	Function    awslambda.Function
	environment string
}

// New builds the validator as scope/id.
func New(scope constructs.Construct, id string, p Props) *Validator {
	if p.ModuleDir == "" || p.Package == "" || len(p.Datasets) == 0 || p.Environment == "" || p.Key == nil || p.LogRetention == "" {
		panic("validator: ModuleDir, Package, Datasets, Environment, Key and LogRetention are required")
	}
	datasets, err := json.Marshal(p.Datasets)
	if err != nil {
		panic("validator: " + err.Error()) // plain structs always encode
	}
	fn := gofunction.New(scope, id, gofunction.Props{
		ModuleDir: p.ModuleDir, Package: p.Package,
		Files:       map[string][]byte{"datasets.json": datasets},
		Description: "Firehose processor: checks records against their dataset declaration and sets the partition keys",
		Environment: map[string]string{"METRICS_NAMESPACE": MetricsNamespace, "ENVIRONMENT": p.Environment},
		// Firehose waits for the processor; 5 minutes is its ceiling.
		Timeout:             awscdk.Duration_Minutes(jsii.Number(2)),
		MemoryMB:            512,
		ReservedConcurrency: p.ReservedConcurrency,
		Key:                 p.Key,
		LogRetention:        p.LogRetention,
		RemovalPolicy:       p.RemovalPolicy,
	})
	return &Validator{Function: fn, environment: p.Environment}
}

func (v *Validator) metric(name string, opts *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	m := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String(MetricsNamespace), MetricName: jsii.String(name),
		DimensionsMap: &map[string]*string{"Environment": jsii.String(v.environment)},
		Statistic:     jsii.String("Sum"),
	})
	if opts != nil {
		return m.With(opts)
	}
	return m
}

// MetricRecordsRejected counts the records the validator rejected (they go
// under errors/processing-failed/). Default statistic: Sum.
func (v *Validator) MetricRecordsRejected(opts *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return v.metric("RecordsRejected", opts)
}

// MetricRecordsAccepted counts the records the validator passed on.
// Default statistic: Sum.
func (v *Validator) MetricRecordsAccepted(opts *awscloudwatch.MetricOptions) awscloudwatch.Metric {
	return v.metric("RecordsAccepted", opts)
}
