package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudtrail"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsconfig"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/lakebucket"
)

// Prefixes in the audit bucket.
const (
	configKeyPrefix = "config"
)

// ConfigRecordedTypes are the resource types the recorder records when
// create_config_recorder is on: what the rules evaluate, nothing more
// (recording all types costs per configuration item).
var ConfigRecordedTypes = []string{"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::CloudTrail::Trail"}

// addAudit creates the trail (enable_cloudtrail) and the AWS Config rules
// (enable_config_rules) with their recorder (create_config_recorder).
func (o *Observability) addAudit() {
	cfg := o.cfg
	trail := config.Bool(cfg.EnableCloudTrail)
	if trail || cfg.CreateConfigRecorder {
		o.AuditBucket = o.newAuditBucket()
	}
	if trail {
		o.addTrail()
	}
	if cfg.EnableConfigRules {
		o.addConfigRules()
	}
}

// newAuditBucket holds CloudTrail log files and Config snapshots. Not a
// lakebucket: its "only our key id" deny statements depend on how the
// writer names the key, and CloudTrail and Config name it themselves.
// Default encryption with the lake key covers every object instead.
func (o *Observability) newAuditBucket() awss3.IBucket {
	st, l := o.w, o.cfg.Lifecycle
	destroy := o.removal == awscdk.RemovalPolicy_DESTROY
	replication := o.auditReplication()
	b := awss3.NewBucket(o.Stack, jsii.String("AuditBucket"), &awss3.BucketProps{
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          st.Key,
		BucketKeyEnabled:       jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL:             jsii.Bool(true),
		MinimumTLSVersion:      jsii.Number(1.2),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: st.AccessLogs,
		ServerAccessLogsPrefix: jsii.String("AuditBucket/"),
		RemovalPolicy:          o.removal,
		AutoDeleteObjects:      jsii.Bool(destroy),
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("audit-noncurrent-versions"),
			NoncurrentVersionExpiration:         days(l.NoncurrentVersionExpirationDays),
			AbortIncompleteMultipartUploadAfter: days(l.AbortIncompleteMultipartUploadDays),
		}},
		// Write-once audit records (audit_object_lock_mode): every object
		// version is locked for audit_object_lock_days. Object Lock can be
		// turned on for an existing bucket and never off again (S3 User
		// Guide, object-lock-configure.html); the CloudFormation update
		// needs no replacement.
		ObjectLockEnabled:          objectLockEnabled(o.cfg),
		ObjectLockDefaultRetention: objectLockRetention(o.cfg),
		ReplicationRules:           replication,
	})
	if replication != nil {
		lakebucket.AcknowledgeReplicationRole(b)
	}
	// The CDK lets S3 log delivery write AuditBucket/* in the storage
	// stack's log bucket without an aws:SourceArn condition (naming this
	// bucket there would make storage depend on observability). The deny
	// keeps that prefix to buckets of this account.
	st.AccessLogs.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AuditBucketLogsFromThisAccountOnly"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logging.s3.amazonaws.com"), nil)},
		Actions:    jsii.Strings("s3:PutObject"),
		Resources:  &[]*string{st.AccessLogs.ArnForObjects(jsii.String("AuditBucket/*"))},
		Conditions: &map[string]interface{}{"StringNotEquals": map[string]interface{}{"aws:SourceAccount": o.Stack.Account()}},
	}))
	return b
}

// addTrail: a multi-region trail with management events, log-file
// validation, the lake key, CloudWatch Logs, and S3 data events (read and
// write) on the three zone buckets.
func (o *Observability) addTrail() {
	cfg, st := o.cfg, o.w
	logs := awslogs.NewLogGroup(o.Stack, jsii.String("TrailLogs"), &awslogs.LogGroupProps{
		EncryptionKey: st.Key,
		Retention:     retention(cfg.LogRetentionDays),
		RemovalPolicy: o.removal,
	})
	t := awscloudtrail.NewTrail(o.Stack, jsii.String("Trail"), &awscloudtrail.TrailProps{
		TrailName:                  jsii.String(cfg.Prefix() + "-trail"),
		Bucket:                     o.AuditBucket,
		EncryptionKey:              st.Key,
		EnableFileValidation:       jsii.Bool(true),
		IsMultiRegionTrail:         jsii.Bool(true),
		IncludeGlobalServiceEvents: jsii.Bool(true),
		ManagementEvents:           awscloudtrail.ReadWriteType_ALL,
		SendToCloudWatchLogs:       jsii.Bool(true),
		CloudWatchLogGroup:         logs,
	})
	t.AddS3EventSelector(&[]*awscloudtrail.S3EventSelector{
		{Bucket: st.Raw}, {Bucket: st.Processed}, {Bucket: st.Curated},
	}, &awscloudtrail.AddEventSelectorOptions{
		ReadWriteType:           awscloudtrail.ReadWriteType_ALL,
		IncludeManagementEvents: jsii.Bool(false), // the first selector has them
	})
	o.Trail = t
}

// addConfigRules creates the managed rules, each S3 rule once per zone
// bucket (a rule scope names one resource). Key rotation and CloudTrail
// rules are periodic and cannot be scoped to a resource.
func (o *Observability) addConfigRules() {
	cfg, st := o.cfg, o.w
	var deps []awscdk.CfnResource
	if cfg.CreateConfigRecorder {
		deps = o.addConfigRecorder()
	}
	rule := func(id, name string, props *awsconfig.ManagedRuleProps) {
		props.ConfigRuleName = jsii.String(cfg.Prefix() + "-" + name)
		r := awsconfig.NewManagedRule(o.Stack, jsii.String(id), props)
		for _, d := range deps {
			r.Node().AddDependency(d)
		}
	}
	zones := []struct {
		id     string
		bucket awss3.IBucket
	}{{"Raw", st.Raw}, {"Processed", st.Processed}, {"Curated", st.Curated}}
	checks := []struct{ id, name, identifier string }{
		{"S3Encryption", "s3-encryption", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED()},
		{"S3TlsOnly", "s3-tls-only", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_SSL_REQUESTS_ONLY()},
		{"S3NoPublicAccess", "s3-no-public-access", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED()},
		{"S3Versioning", "s3-versioning", *awsconfig.ManagedRuleIdentifiers_S3_BUCKET_VERSIONING_ENABLED()},
	}
	for _, c := range checks {
		for _, z := range zones {
			rule("Config"+c.id+z.id, c.name+"-"+lower(z.id), &awsconfig.ManagedRuleProps{
				Identifier: jsii.String(c.identifier),
				RuleScope:  awsconfig.RuleScope_FromResource(awsconfig.ResourceType_S3_BUCKET(), z.bucket.BucketName()),
			})
		}
	}
	rule("ConfigKeyRotation", "kms-key-rotation", &awsconfig.ManagedRuleProps{
		Identifier: awsconfig.ManagedRuleIdentifiers_CMK_BACKING_KEY_ROTATION_ENABLED(),
	})
	trail := &awsconfig.ManagedRuleProps{Identifier: awsconfig.ManagedRuleIdentifiers_CLOUD_TRAIL_ENABLED()}
	if o.Trail != nil {
		// Compliant only if a trail delivers to our audit bucket.
		trail.InputParameters = &map[string]interface{}{"s3BucketName": o.AuditBucket.BucketName()}
	}
	rule("ConfigCloudTrail", "cloudtrail-enabled", trail)
}

// addConfigRecorder creates the account's recorder and delivery channel
// (one each per account and region, hence opt-in) and returns them for
// the rules to depend on. L1: AWS Config has no L2 recorder.
func (o *Observability) addConfigRecorder() []awscdk.CfnResource {
	cfg, st := o.cfg, o.w
	role := awsiam.NewRole(o.Stack, jsii.String("ConfigRecorderRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("config.amazonaws.com"), nil),
		Description: jsii.String("AWS Config recorder of " + cfg.Prefix()),
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("service-role/AWS_ConfigRole")),
		},
	})
	o.AuditBucket.GrantPut(role, jsii.String(configKeyPrefix+"/AWSLogs/*"))
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("s3:GetBucketAcl"),
		Resources: &[]*string{o.AuditBucket.BucketArn()},
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

	recorder := awsconfig.NewCfnConfigurationRecorder(o.Stack, jsii.String("ConfigRecorder"), &awsconfig.CfnConfigurationRecorderProps{
		RoleArn: role.RoleArn(),
		RecordingGroup: &awsconfig.CfnConfigurationRecorder_RecordingGroupProperty{
			AllSupported:               jsii.Bool(false),
			IncludeGlobalResourceTypes: jsii.Bool(false),
			ResourceTypes:              jsii.Strings(ConfigRecordedTypes...),
			RecordingStrategy:          &awsconfig.CfnConfigurationRecorder_RecordingStrategyProperty{UseOnly: jsii.String("INCLUSION_BY_RESOURCE_TYPES")},
		},
	})
	channel := awsconfig.NewCfnDeliveryChannel(o.Stack, jsii.String("ConfigDeliveryChannel"), &awsconfig.CfnDeliveryChannelProps{
		S3BucketName: o.AuditBucket.BucketName(),
		S3KeyPrefix:  jsii.String(configKeyPrefix),
		S3KmsKeyArn:  st.Key.KeyArn(),
		ConfigSnapshotDeliveryProperties: &awsconfig.CfnDeliveryChannel_ConfigSnapshotDeliveryPropertiesProperty{
			DeliveryFrequency: jsii.String("TwentyFour_Hours"),
		},
	})
	channel.Node().AddDependency(recorder)
	return []awscdk.CfnResource{recorder, channel}
}

// auditReplication copies the audit files to the replication block's
// audit bucket (Object Lock must be on there too when it is on here).
func (o *Observability) auditReplication() *[]*awss3.ReplicationRule {
	r := o.cfg.Replication
	if !r.Enabled || r.AuditDestinationBucketArn == "" {
		return nil
	}
	return lakebucket.ReplicationRules(
		replicaBucket(o.Stack, "AuditReplica", r.AuditDestinationBucketArn, r.DestinationRegion),
		awskms.Key_FromKeyArn(o.Stack, jsii.String("AuditReplicaKey"), jsii.String(r.DestinationKmsKeyArn)))
}

// objectLockEnabled is nil (property absent) when the lock is off, so an
// environment that never had it keeps its template unchanged.
func objectLockEnabled(cfg *config.Config) *bool {
	if cfg.AuditObjectLockMode == config.ObjectLockOff {
		return nil
	}
	return jsii.Bool(true)
}

func objectLockRetention(cfg *config.Config) awss3.ObjectLockRetention {
	d := awscdk.Duration_Days(jsii.Number(float64(cfg.AuditObjectLockDays)))
	switch cfg.AuditObjectLockMode {
	case config.ObjectLockGovernance:
		return awss3.ObjectLockRetention_Governance(d)
	case config.ObjectLockCompliance:
		return awss3.ObjectLockRetention_Compliance(d)
	}
	return nil
}

func lower(s string) string {
	b := []byte(s)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}
