package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/lakebucket"
	"github.com/example/datalake/constructs/lakekey"
	"github.com/example/datalake/constructs/network"
)

// StorageProps configure the storage stack.
type StorageProps struct {
	StackProps awscdk.StackProps
	Config     *config.Config
	// Destroy lets `cdk destroy` delete buckets and the key. The builder
	// sets it only for a non-production environment with allow_destroy and
	// the confirm_destroy context flag. Default: false (retain).
	Destroy bool
}

// Storage owns the lake's key, buckets and private network. Every other
// stack depends on it, so what they share lives here.
type Storage struct {
	Stack awscdk.Stack
	// Key encrypts the lake: buckets, stream, Firehose, Glue, Athena
	// results, log groups, the alarm topic and the trail.
	Key awskms.IKey
	// Raw, Processed and Curated are the zone buckets.
	Raw, Processed, Curated awss3.IBucket
	// AccessLogs receives S3 server access logs (SSE-S3: S3 log delivery
	// cannot write to SSE-KMS buckets).
	AccessLogs awss3.IBucket
	// AthenaResults holds query results.
	AthenaResults awss3.IBucket
	// Vpc and JobSecurityGroup exist when enable_vpc is true, else nil.
	Vpc              awsec2.IVpc
	JobSecurityGroup awsec2.ISecurityGroup
	// RawBucketOutput feeds the pipeline's smoke test.
	RawBucketOutput awscdk.CfnOutput
}

// Construct ids of stateful resources: the logical ids derive from them and
// a test pins them, because renaming one replaces a bucket full of data.
const (
	idKey           = "LakeKey"
	idRaw           = "RawBucket"
	idProcessed     = "ProcessedBucket"
	idCurated       = "CuratedBucket"
	idAccessLogs    = "AccessLogsBucket"
	idAthenaResults = "AthenaResultsBucket"
)

// NewStorage builds the storage stack.
func NewStorage(scope constructs.Construct, id string, props StorageProps) *Storage {
	cfg := props.Config
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	s := &Storage{Stack: stack}
	removal := removalPolicy(props.Destroy)

	key := lakekey.New(stack, idKey, lakekey.Props{
		Description: fmt.Sprintf("Data lake %s: buckets, stream, jobs, logs, alarms, trail", cfg.Prefix()),
		Alias:       cfg.Prefix() + "-lake",
		Destroy:     props.Destroy,
	})
	s.Key = key

	accessLogs := lakebucket.NewAccessLogs(stack, idAccessLogs, lakebucket.AccessLogsProps{
		Expiration:             days(cfg.Lifecycle.AccessLogExpirationDays),
		AbortIncompleteUploads: days(cfg.Lifecycle.AbortIncompleteMultipartUploadDays),
		Destroy:                props.Destroy,
	})
	s.AccessLogs = accessLogs

	zone := func(id, name string, rules []*awss3.LifecycleRule) awss3.IBucket {
		return lakebucket.New(stack, id, lakebucket.Props{
			BucketName: name, Key: key, AccessLogs: accessLogs,
			LifecycleRules: rules, Destroy: props.Destroy,
		})
	}
	l := cfg.Lifecycle
	if r := cfg.Replication; r.Enabled {
		// Raw is the one zone that cannot be rebuilt from another: it alone
		// is copied to the other region (processed and curated are derived).
		s.Raw = lakebucket.New(stack, idRaw, lakebucket.Props{
			BucketName: cfg.RawBucketName, Key: key, AccessLogs: accessLogs,
			LifecycleRules: rawLifecycle(l), Destroy: props.Destroy,
			ReplicateTo:  replicaBucket(stack, "RawReplica", r.RawDestinationBucketArn, r.DestinationRegion),
			ReplicateKey: replicaKey(stack, r.DestinationKmsKeyArn),
		})
	} else {
		s.Raw = zone(idRaw, cfg.RawBucketName, rawLifecycle(l))
	}
	s.Processed = zone(idProcessed, cfg.ProcessedBucketName, tieredLifecycle("processed", l.ProcessedIntelligentTieringDays, l))
	s.Curated = zone(idCurated, cfg.CuratedBucketName, tieredLifecycle("curated", l.CuratedIntelligentTieringDays, l))
	awscdk.Tags_Of(s.Raw).Add(jsii.String("data-classification"), jsii.String(cfg.RawClassification), nil)
	awscdk.Tags_Of(s.Processed).Add(jsii.String("data-classification"), jsii.String(cfg.ProcessedClassification), nil)
	awscdk.Tags_Of(s.Curated).Add(jsii.String("data-classification"), jsii.String(cfg.CuratedClassification), nil)

	// Query results are scratch data: short expiry, no versions to keep.
	s.AthenaResults = lakebucket.New(stack, idAthenaResults, lakebucket.Props{
		Key: key, AccessLogs: accessLogs, Destroy: props.Destroy, Unversioned: true,
		LifecycleRules: []*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-query-results"),
			Expiration:                          days(l.AthenaResultsExpirationDays),
			AbortIncompleteMultipartUploadAfter: days(l.AbortIncompleteMultipartUploadDays),
		}},
	})

	// EventBridge notifications are switched on by a CDK-managed custom
	// resource, one per stack.
	compliance.SuppressPath(stack, "BucketNotificationsHandler050a0587b7544547bf325f094a3db834",
		compliance.Suppression{
			ID:        "AwsSolutions-IAM4",
			Reason:    "CDK's bucket-notifications handler (turns on EventBridge delivery) uses the Lambda basic execution managed policy; the construct does not let us replace its role.",
			AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
		},
		compliance.Suppression{
			ID:        "AwsSolutions-IAM5",
			Reason:    "CDK's bucket-notifications handler needs s3:PutBucketNotification, which it grants on *.",
			AppliesTo: []string{"Resource::*"},
		})

	if config.Bool(cfg.EnableVPC) {
		n := network.New(stack, network.Props{
			Cidr: cfg.VpcCidr, Key: key, LogRetention: retention(cfg.LogRetentionDays), RemovalPolicy: removal,
			Name: cfg.Prefix(), S3PrefixListID: cfg.S3PrefixListID,
		})
		s.Vpc, s.JobSecurityGroup = n.Vpc, n.JobSecurityGroup
	}

	s.RawBucketOutput = output(stack, "RawBucketName", s.Raw.BucketName(), "Raw zone bucket")
	output(stack, "ProcessedBucketName", s.Processed.BucketName(), "Processed zone bucket")
	output(stack, "CuratedBucketName", s.Curated.BucketName(), "Curated zone bucket")
	output(stack, "LakeKeyArn", key.KeyArn(), "KMS key of the lake")
	output(stack, "QueryResultsLocation", jsii.String("s3://"+*s.AthenaResults.BucketName()+"/results/"), "Where Athena writes query results")
	return s
}

// replicaBucket and replicaKey name the copies the operator created in the
// destination region (config block replication).
func replicaBucket(stack awscdk.Stack, id, arn, region string) awss3.IBucket {
	return awss3.Bucket_FromBucketAttributes(stack, jsii.String(id), &awss3.BucketAttributes{
		BucketArn: jsii.String(arn), Region: jsii.String(region),
	})
}

func replicaKey(stack awscdk.Stack, arn string) awskms.IKey {
	return awskms.Key_FromKeyArn(stack, jsii.String("ReplicaKey"), jsii.String(arn))
}

// rawLifecycle: raw data is read by the ETL within days, then rarely:
// Intelligent-Tiering, then Glacier, then expiry (0 disables a step).
func rawLifecycle(l config.Lifecycle) []*awss3.LifecycleRule {
	transitions := []*awss3.Transition{{
		StorageClass:    awss3.StorageClass_INTELLIGENT_TIERING(),
		TransitionAfter: days(l.RawIntelligentTieringDays),
	}}
	if g := config.Int(l.RawGlacierDays); g > 0 {
		transitions = append(transitions, &awss3.Transition{
			StorageClass:    awss3.StorageClass_GLACIER(),
			TransitionAfter: days(l.RawGlacierDays),
		})
	}
	rule := &awss3.LifecycleRule{
		Id:                                  jsii.String("raw-tiering-and-retention"),
		Transitions:                         &transitions,
		NoncurrentVersionExpiration:         days(l.NoncurrentVersionExpirationDays),
		AbortIncompleteMultipartUploadAfter: days(l.AbortIncompleteMultipartUploadDays),
	}
	if config.Int(l.RawExpirationDays) > 0 {
		rule.Expiration = days(l.RawExpirationDays)
	}
	return []*awss3.LifecycleRule{rule}
}

// tieredLifecycle: processed and curated data is queried unpredictably, so
// Intelligent-Tiering (no retrieval fees) rather than Glacier.
func tieredLifecycle(zone string, tiering *int, l config.Lifecycle) []*awss3.LifecycleRule {
	return []*awss3.LifecycleRule{{
		Id: jsii.String(zone + "-tiering"),
		Transitions: &[]*awss3.Transition{{
			StorageClass:    awss3.StorageClass_INTELLIGENT_TIERING(),
			TransitionAfter: days(tiering),
		}},
		NoncurrentVersionExpiration:         days(l.NoncurrentVersionExpirationDays),
		AbortIncompleteMultipartUploadAfter: days(l.AbortIncompleteMultipartUploadDays),
	}}
}
