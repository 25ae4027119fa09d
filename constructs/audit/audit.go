// Package audit is the lake's audit trail: a versioned, KMS-encrypted
// audit bucket (optionally write-once with Object Lock and replicated), a
// multi-region CloudTrail trail with S3 data events on the zone buckets,
// and AWS Config managed rules on those buckets, the key and the trail,
// with an optional recorder and delivery channel.
//
// Resources keep the caller's scope and the ids the observability stack
// used (the bucket, the trail and its log group are stateful).
package audit

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconfig"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/lakebucket"
)

// ConfigKeyPrefix is where the delivery channel writes in the audit bucket.
const ConfigKeyPrefix = "config"

// ConfigRecordedTypes are the resource types the recorder records: what
// the rules evaluate, nothing more (recording all types costs per
// configuration item).
var ConfigRecordedTypes = []string{"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::CloudTrail::Trail"}

// Zone is a bucket the trail records data events on and the Config rules
// check; ID names its rules (ConfigS3Encryption<ID>, ...-<id>).
type Zone struct {
	ID     string
	Bucket awss3.IBucket
}

// Props configure the audit trail.
type Props struct {
	// Prefix names the trail and the Config rules. Required.
	Prefix string
	// Key encrypts the bucket, the trail and its log group. Required.
	Key awskms.IKey
	// AccessLogs receives the bucket's server access logs under
	// AuditBucket/. Required when a bucket is made.
	AccessLogs awss3.IBucket
	// Removal of the bucket and log group. Default: RETAIN (DESTROY also
	// empties the bucket on delete).
	Removal awscdk.RemovalPolicy
	// NoncurrentVersionExpiration and AbortIncompleteMultipartUpload: the
	// bucket's lifecycle. Default: 90 days and 7 days.
	NoncurrentVersionExpiration, AbortIncompleteMultipartUpload awscdk.Duration
	// ObjectLock locks every object version for its period. Object Lock
	// can be turned on for an existing bucket and never off again (S3 User
	// Guide, object-lock-configure.html). Default: nil, no lock.
	ObjectLock awss3.ObjectLockRetention
	// Replication copies the audit files elsewhere (lakebucket.ReplicationRules).
	// Default: nil, none.
	Replication *[]*awss3.ReplicationRule
	// Trail creates the trail (management events of all regions, log-file
	// validation, CloudWatch Logs, data events on Zones). Default: false.
	Trail bool
	// TrailLogRetention of the trail's log group. Default: one year.
	TrailLogRetention awslogs.RetentionDays
	// Zones are the lake's zone buckets.
	Zones []Zone
	// ConfigRules creates the managed rules; ConfigRecorder also the
	// account's recorder and delivery channel (one each per account and
	// region, hence opt-in). Default: false.
	ConfigRules, ConfigRecorder bool
}

// Audit is the built audit trail; Bucket is nil when neither the trail nor
// the recorder needs it, Trail nil when Props.Trail is false.
type Audit struct {
	Bucket awss3.IBucket
	Trail  awscloudtrail.Trail
}

// New builds the audit trail in scope.
func New(scope constructs.Construct, p Props) *Audit {
	if p.Prefix == "" || p.Key == nil {
		panic("audit: Prefix and Key are required")
	}
	if p.Removal == "" {
		p.Removal = awscdk.RemovalPolicy_RETAIN
	}
	if p.NoncurrentVersionExpiration == nil {
		p.NoncurrentVersionExpiration = awscdk.Duration_Days(jsii.Number(90))
	}
	if p.AbortIncompleteMultipartUpload == nil {
		p.AbortIncompleteMultipartUpload = awscdk.Duration_Days(jsii.Number(7))
	}
	if p.TrailLogRetention == "" {
		p.TrailLogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	a := &Audit{}
	if p.Trail || p.ConfigRecorder {
		if p.AccessLogs == nil {
			panic("audit: AccessLogs is required for the audit bucket")
		}
		a.Bucket = newBucket(scope, &p)
	}
	if p.Trail {
		a.Trail = newTrail(scope, &p, a.Bucket)
	}
	if p.ConfigRules {
		a.addConfigRules(scope, &p)
	}
	return a
}

// newBucket holds CloudTrail log files and Config snapshots. Not a
// lakebucket: its "only our key id" deny statements depend on how the
// writer names the key, and CloudTrail and Config name it themselves.
// Default encryption with the lake key covers every object instead.
func newBucket(scope constructs.Construct, p *Props) awss3.IBucket {
	var lockEnabled *bool // absent when off: a bucket that never had it keeps its template
	if p.ObjectLock != nil {
		lockEnabled = jsii.Bool(true)
	}
	b := awss3.NewBucket(scope, jsii.String("AuditBucket"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          p.Key,
		BucketKeyEnabled:       jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: p.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("AuditBucket/"),
		RemovalPolicy:          p.Removal,
		AutoDeleteObjects:      jsii.Bool(p.Removal == awscdk.RemovalPolicy_DESTROY),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("audit-noncurrent-versions"),
			NoncurrentVersionExpiration:         p.NoncurrentVersionExpiration,
			AbortIncompleteMultipartUploadAfter: p.AbortIncompleteMultipartUpload,
		}},
		ObjectLockEnabled:          lockEnabled,
		ObjectLockDefaultRetention: p.ObjectLock,
		ReplicationRules:           p.Replication,
	})
	if p.Replication != nil {
		lakebucket.AcknowledgeReplicationRole(b)
	}
	// The CDK lets S3 log delivery write AuditBucket/* in the log bucket
	// without an aws:SourceArn condition (naming this bucket there would
	// make the log bucket's stack depend on this one). The deny keeps that
	// prefix to buckets of this account.
	p.AccessLogs.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AuditBucketLogsFromThisAccountOnly"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logging.s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{p.AccessLogs.ArnForObjects(jsii.String("AuditBucket/*"))},
		Conditions: &map[string]interface{}{"StringNotEquals": map[string]interface{}{"aws:SourceAccount": awscdk.Stack_Of(scope).Account()}},
	}))
	return b
}

// newTrail: a multi-region trail with management events, log-file
// validation, the lake key, CloudWatch Logs, and S3 data events (read and
// write) on the zone buckets.
func newTrail(scope constructs.Construct, p *Props, bucket awss3.IBucket) awscloudtrail.Trail {
	logs := awslogs.NewLogGroup(scope, jsii.String("TrailLogs"), &awslogs.LogGroupProps{
		EncryptionKey: p.Key,
		Retention:     p.TrailLogRetention,
		RemovalPolicy: p.Removal,
	})
	t := awscloudtrail.NewTrail(scope, jsii.String("Trail"), &awscloudtrail.TrailProps{
		TrailName:                  jsii.String(p.Prefix + "-trail"),
		Bucket:                     bucket,
		EncryptionKey:              p.Key,
		EnableFileValidation:       jsii.Bool(true),
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		ManagementEvents:           awscloudtrail.ReadWriteType_ALL,
		SendToCloudWatchLogs:       jsii.Bool(true),
		CloudWatchLogGroup:         logs,
	})
	if len(p.Zones) > 0 {
		var selectors []*awscloudtrail.S3EventSelector
		for _, z := range p.Zones {
			selectors = append(selectors, &awscloudtrail.S3EventSelector{Bucket: z.Bucket})
		}
		t.AddS3EventSelector(&selectors, &awscloudtrail.AddEventSelectorOptions{
			ReadWriteType:           awscloudtrail.ReadWriteType_ALL,
			IncludeManagementEvents: jsii.Bool(false), // the first selector has them
		})
	}
	return t
}

// addConfigRules creates the managed rules, each S3 rule once per zone
// bucket (a rule scope names one resource). Key rotation and CloudTrail
// rules are periodic and cannot be scoped to a resource.
func (a *Audit) addConfigRules(scope constructs.Construct, p *Props) {
	var deps []awscdk.CfnResource
	if p.ConfigRecorder {
		deps = newConfigRecorder(scope, p, a.Bucket)
	}
	rule := func(id, name string, props *awsconfig.ManagedRuleProps) {
		props.ConfigRuleName = jsii.String(p.Prefix + "-" + name)
		r := awsconfig.NewManagedRule(scope, jsii.String(id), props)
		for _, d := range deps {
			r.Node().AddDependency(d)
		}
	}
	checks := []struct{ id, name, identifier string }{
		{"S3Encryption", "s3-encryption", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED()},
		{"S3TlsOnly", "s3-tls-only", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_SSL_REQUESTS_ONLY()},
		{"S3NoPublicAccess", "s3-no-public-access", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED()},
		{"S3Versioning", "s3-versioning", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_VERSIONING_ENABLED()},
	}
	for _, c := range checks {
		for _, z := range p.Zones {
			rule("Config"+c.id+z.ID, c.name+"-"+lower(z.ID), &awsconfig.ManagedRuleProps{
				Identifier: jsii.String(c.identifier),
				RuleScope:  awsconfig.RuleScope_FromResource(awsconfig.ResourceType_S3_BUCKET(), z.Bucket.BucketName()),
			})
		}
	}
	rule("ConfigKeyRotation", "kms-key-rotation", &awsconfig.ManagedRuleProps{
		Identifier: awsconfig.ManagedRuleIdentifiers_CMK_BACKING_KEY_ROTATION_ENABLED(),
	})
	trail := &awsconfig.ManagedRuleProps{Identifier: awsconfig.ManagedRuleIdentifiers_CLOUD_TRAIL_ENABLED()}
	if a.Trail != nil {
		// Compliant only if a trail delivers to our audit bucket.
		trail.InputParameters = &map[string]interface{}{"s3BucketName": a.Bucket.BucketName()}
	}
	rule("ConfigCloudTrail", "cloudtrail-enabled", trail)
}

// newConfigRecorder creates the account's recorder and delivery channel
// and returns them for the rules to depend on. L1: AWS Config has no L2
// recorder.
func newConfigRecorder(scope constructs.Construct, p *Props, bucket awss3.IBucket) []awscdk.CfnResource {
	role := awsiam.NewRole(scope, jsii.String("ConfigRecorderRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("config.amazonaws.com"), nil),
		Description: jsii.String("AWS Config recorder of " + p.Prefix),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWS_ConfigRole")),
		},
	})
	bucket.GrantPut(role, jsii.String(ConfigKeyPrefix+"/AWSLogs/*"))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetBucketAcl"),
		Resources: &[]*string{bucket.BucketArn()},
	}))
	compliance.Suppress(role, compliance.Suppression{
		ID:        "AwsSolutions-IAM4",
		Reason:    "AWS_ConfigRole is the policy AWS documents for Config recorders; AWS keeps it current with every resource type Config can describe.",
		AppliesTo: []string{"Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole"},
	})
	compliance.Suppress(role, compliance.Suppression{
		ID:             "AwsSolutions-IAM5",
		Reason:         "CDK grantPut: Config writes snapshots under config/AWSLogs/ in the audit bucket, encrypted with the lake key.",
		AppliesTo:      []string{"Action::s3:Abort*", "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*", "Action::s3:PutObjectLegalHold", "Action::s3:PutObjectRetention", "Action::s3:PutObjectTagging", "Action::s3:PutObjectVersionTagging"},
		AppliesToRegex: []string{`/^Resource::<AuditBucket[0-9A-F]+\.Arn>\/config\/AWSLogs\/\*$/g`},
	})

	recorder := awsconfig.NewCfnConfigurationRecorder(scope, jsii.String("ConfigRecorder"), &awsconfig.CfnConfigurationRecorderProps{
		RoleArn: role.RoleArn(),
		RecordingGroup: &awsconfig.CfnConfigurationRecorder_RecordingGroupProperty{
			AllSupported:               jsii.Bool(false),
			IncludeGlobalResourceTypes: jsii.Bool(false),
			ResourceTypes:              jsii.Strings(ConfigRecordedTypes...),
			RecordingStrategy:          &awsconfig.CfnConfigurationRecorder_RecordingStrategyProperty{UseOnly: jsii.String("INCLUSION_BY_RESOURCE_TYPES")},
		},
	})
	channel := awsconfig.NewCfnDeliveryChannel(scope, jsii.String("ConfigDeliveryChannel"), &awsconfig.CfnDeliveryChannelProps{
		S3BucketName: bucket.BucketName(),
		S3KeyPrefix:  jsii.String(ConfigKeyPrefix),
		S3KmsKeyArn:  p.Key.KeyArn(),
		ConfigSnapshotDeliveryProperties: &awsconfig.CfnDeliveryChannel_ConfigSnapshotDeliveryPropertiesProperty{
			DeliveryFrequency: jsii.String("TwentyFour_Hours"),
		},
	})
	channel.Node().AddDependency(recorder)
	return []awscdk.CfnResource{recorder, channel}
}

func lower(s string) string {
	b := []byte(s)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
