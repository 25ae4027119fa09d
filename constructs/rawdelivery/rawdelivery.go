// Package rawdelivery is the path from the ingestion stream to the raw
// zone: a KMS-encrypted Kinesis stream and a Firehose delivery stream that
// reads it, runs each batch through a processor Lambda (the validator,
// which sets the partition keys), appends a newline to every record and
// writes gzip JSON lines with dynamic partitioning, SSE-KMS, errors logged.
//
// Resources keep the caller's scope and the ids the ingestion stack used
// (the stream and the log group are stateful).
package rawdelivery

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
)

// Props configure the delivery.
type Props struct {
	// Key encrypts the stream, the log group and the delivered objects. Required.
	Key awskms.IKey
	// Raw is the destination bucket. Required.
	Raw awss3.IBucket
	// Processor sees every batch before delivery and returns each record
	// with its partition keys (Firehose dynamic partitioning). Required.
	Processor awslambda.IFunction
	// DataPrefix and ErrorPrefix are the Firehose S3 prefixes (they may use
	// !{partitionKeyFromLambda:...} and !{firehose:error-output-type}). Required.
	DataPrefix, ErrorPrefix string
	// ShardCount provisions the stream; 0 means on-demand capacity.
	// Default: 0.
	ShardCount int
	// Retention of the stream's records. Default: 24 hours.
	Retention awscdk.Duration
	// BufferInterval and BufferSize: how long and how much Firehose buffers
	// before it writes an object. Default: 300 s, 128 MiB.
	BufferInterval awscdk.Duration
	BufferSize     awscdk.Size
	// ProcessorBufferInterval: how long records wait for a processor batch.
	// Default: 60 s.
	ProcessorBufferInterval awscdk.Duration
	// LogRetention of the delivery error log group. Default: one year.
	LogRetention awslogs.RetentionDays
	// Removal of the stream and the log group. Default: RETAIN.
	Removal awscdk.RemovalPolicy
}

// RawDelivery is the built path.
type RawDelivery struct {
	Stream         awskinesis.Stream
	DeliveryStream awskinesisfirehose.DeliveryStream
	// LogGroup receives Firehose delivery errors.
	LogGroup awslogs.ILogGroup
}

// New builds the stream ("Stream"), the error log group ("FirehoseLogs")
// and the delivery stream ("DeliveryStream") in scope.
func New(scope constructs.Construct, p Props) *RawDelivery {
	if p.Key == nil || p.Raw == nil || p.Processor == nil || p.DataPrefix == "" || p.ErrorPrefix == "" {
		panic("rawdelivery: Key, Raw, Processor, DataPrefix and ErrorPrefix are required")
	}
	if p.Retention == nil {
		p.Retention = awscdk.Duration_Hours(jsii.Number(24))
	}
	if p.BufferInterval == nil {
		p.BufferInterval = awscdk.Duration_Seconds(jsii.Number(300))
	}
	if p.BufferSize == nil {
		p.BufferSize = awscdk.Size_Mebibytes(jsii.Number(128))
	}
	if p.ProcessorBufferInterval == nil {
		p.ProcessorBufferInterval = awscdk.Duration_Seconds(jsii.Number(60))
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	if p.Removal == "" {
		p.Removal = awscdk.RemovalPolicy_RETAIN
	}

	streamProps := &awskinesis.StreamProps{
		RetentionPeriod: p.Retention,
		Encryption:      awskinesis.StreamEncryption_KMS,
		EncryptionKey:   p.Key,
		RemovalPolicy:   p.Removal,
		StreamMode:      awskinesis.StreamMode_ON_DEMAND,
	}
	if p.ShardCount > 0 {
		streamProps.StreamMode = awskinesis.StreamMode_PROVISIONED
		streamProps.ShardCount = jsii.Number(float64(p.ShardCount))
	}
	stream := awskinesis.NewStream(scope, jsii.String("Stream"), streamProps)
	compliance.Suppress(stream, compliance.Suppression{
		ID:     "AwsSolutions-KDS3",
		Reason: "By design the stream is encrypted with the lake's customer managed key (the same key as the raw zone), so the data path has one key to audit and revoke; the per-request KMS cost is accepted.",
	})

	logs := awslogs.NewLogGroup(scope, jsii.String("FirehoseLogs"), &awslogs.LogGroupProps{
		EncryptionKey: p.Key,
		Retention:     p.LogRetention,
		RemovalPolicy: p.Removal,
	})
	delivery := awskinesisfirehose.NewDeliveryStream(scope, jsii.String("DeliveryStream"), &awskinesisfirehose.DeliveryStreamProps{
		Source: awskinesisfirehose.NewKinesisStreamSource(stream),
		Destination: awskinesisfirehose.NewS3Bucket(p.Raw, &awskinesisfirehose.S3BucketProps{
			DataOutputPrefix:  jsii.String(p.DataPrefix),
			ErrorOutputPrefix: jsii.String(p.ErrorPrefix),
			BufferingInterval: p.BufferInterval,
			BufferingSize:     p.BufferSize,
			Compression:       awskinesisfirehose.Compression_GZIP(),
			FileExtension:     jsii.String(".json.gz"),
			EncryptionKey:     p.Key,
			LoggingConfig:     awskinesisfirehose.NewEnableLogging(logs),
			DynamicPartitioning: &awskinesisfirehose.DynamicPartitioningProps{
				Enabled:       jsii.Bool(true),
				RetryDuration: awscdk.Duration_Minutes(jsii.Number(5)),
			},
			Processors: &[]awskinesisfirehose.IDataProcessor{
				awskinesisfirehose.NewLambdaFunctionProcessor(p.Processor, &awskinesisfirehose.DataProcessorProps{
					BufferInterval: p.ProcessorBufferInterval,
					BufferSize:     awscdk.Size_Mebibytes(jsii.Number(3)),
					Retries:        jsii.Number(3),
				}),
				// One JSON document per line, so Glue and Athena read the
				// objects as JSON lines. Record bytes are otherwise untouched.
				awskinesisfirehose.NewAppendDelimiterToRecordProcessor(),
			},
		}),
	})
	compliance.Suppress(delivery, compliance.Suppression{
		ID:     "AwsSolutions-KDF1",
		Reason: "Server-side encryption of a delivery stream is not available when its source is a Kinesis stream; the source stream is encrypted with the lake key and the destination objects are SSE-KMS with the same key.",
	})
	compliance.GrantWildcards(delivery, "Firehose's destination role writes to the raw zone with the lake key.", *p.Raw.Node().Id())
	compliance.Suppress(delivery, compliance.Suppression{
		ID:             "AwsSolutions-IAM5",
		Reason:         "Firehose invokes the processor by qualified ARN (function:version); the CDK grant covers the function's versions only.",
		AppliesToRegex: []string{`/^Resource::<` + *p.Processor.Node().Id() + `[0-9A-F]+\.Arn>:\*$/g`},
	})
	return &RawDelivery{Stream: stream, DeliveryStream: delivery, LogGroup: logs}
}
