package constructtest_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/rawdelivery"
)

const (
	dataPrefix  = "raw/source=!{partitionKeyFromLambda:source}/"
	errorPrefix = "errors/!{firehose:error-output-type}/"
	shards      = 3
)

// rawdeliveryBuilt is what the rawdelivery tests read.
type rawdeliveryBuilt struct {
	tpl       map[string]any
	nagErrors []string
}

// rawdeliveryFixture synthesizes the rawdelivery stack once, on first use.
var rawdeliveryFixture = sync.OnceValue(func() (b rawdeliveryBuilt) {
	stack := constructtest.NewStack("Raw")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	raw := awss3.NewBucket(stack, jsii.String("RawBucket"), &awss3.BucketProps{EnforceSSL: jsii.Bool(true)})
	fn := awslambda.NewFunction(stack, jsii.String("Proc"), &awslambda.FunctionProps{Runtime: awslambda.Runtime_NODEJS_22_X(),
		Handler: jsii.String("index.handler"), Code: awslambda.Code_FromInline(jsii.String("exports.handler=async e=>e"))})
	// Defaults (on-demand) in the stack, provisioned in a scope of its own.
	rawdelivery.New(stack, rawdelivery.Props{Key: key, Raw: raw, Processor: fn, DataPrefix: dataPrefix, ErrorPrefix: errorPrefix})
	rawdelivery.New(constructs.NewConstruct(stack, jsii.String("P")), rawdelivery.Props{Key: key, Raw: raw, Processor: fn, DataPrefix: dataPrefix,
		ErrorPrefix: errorPrefix, ShardCount: shards, BufferInterval: awscdk.Duration_Seconds(jsii.Number(60))})
	b.tpl, b.nagErrors = constructtest.Synth(stack, "/Key/", "/RawBucket/", "/Proc/")
	return b
})

// On-demand by default, provisioned with ShardCount; KMS with the key,
// 24 hours unless told.
func TestStreamCapacity(t *testing.T) {
	tpl := rawdeliveryFixture().tpl
	modes := map[string]int{}
	for _, s := range constructtest.OfType(tpl, "AWS::Kinesis::Stream") {
		mode := s["StreamModeDetails"].(map[string]any)["StreamMode"].(string)
		modes[mode]++
		if mode == "PROVISIONED" && s["ShardCount"] != float64(shards) {
			t.Errorf("provisioned stream shards = %v, want %d", s["ShardCount"], shards)
		}
		if mode == "ON_DEMAND" && s["ShardCount"] != nil {
			t.Errorf("on-demand stream has ShardCount %v", s["ShardCount"])
		}
		if e := constructtest.JSON(s["StreamEncryption"]); !strings.Contains(e, `"EncryptionType":"KMS"`) || s["RetentionPeriodHours"] != 24.0 {
			t.Errorf("stream = %v", s)
		}
	}
	if modes["ON_DEMAND"] != 1 || modes["PROVISIONED"] != 1 {
		t.Errorf("stream modes = %v, want one of each", modes)
	}
}

// Firehose reads the stream, runs the processor then appends a newline,
// partitions dynamically under the given prefixes, gzip, SSE-KMS, logs
// errors; buffers default to 300 s / 128 MiB.
func TestDeliveryPath(t *testing.T) {
	tpl := rawdeliveryFixture().tpl
	var intervals []float64
	for _, d := range constructtest.OfType(tpl, "AWS::KinesisFirehose::DeliveryStream") {
		s3 := d["ExtendedS3DestinationConfiguration"].(map[string]any)
		b := constructtest.JSON(s3)
		for _, want := range []string{`"Prefix":"` + dataPrefix + `"`, `"ErrorOutputPrefix":"` + errorPrefix + `"`,
			`"CompressionFormat":"GZIP"`, `"DynamicPartitioningConfiguration":{"Enabled":true`, `"AWSKMSKeyARN":`,
			`"CloudWatchLoggingOptions":{"Enabled":true`, `"SizeInMBs":128`} {
			if !strings.Contains(b, want) {
				t.Errorf("destination lacks %s: %s", want, b)
			}
		}
		var types []string
		for _, p := range s3["ProcessingConfiguration"].(map[string]any)["Processors"].([]any) {
			types = append(types, p.(map[string]any)["Type"].(string))
		}
		if strings.Join(types, ",") != "Lambda,AppendDelimiterToRecord" {
			t.Errorf("processors = %v, want the Lambda then the newline", types)
		}
		if !strings.Contains(constructtest.JSON(d["KinesisStreamSourceConfiguration"]), "Stream") {
			t.Errorf("source = %v", d["KinesisStreamSourceConfiguration"])
		}
		intervals = append(intervals, s3["BufferingHints"].(map[string]any)["IntervalInSeconds"].(float64))
	}
	if constructtest.JSON(intervals) != "[300,60]" && constructtest.JSON(intervals) != "[60,300]" {
		t.Errorf("buffer intervals = %v, want the 300 s default and the given 60 s", intervals)
	}
}

func TestRawDeliveryPassesCdkNag(t *testing.T) {
	for _, e := range rawdeliveryFixture().nagErrors {
		t.Error(e)
	}
}
