package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/audit"
	"github.com/example/datalake/constructs/lakebucket"
)

// addAudit creates the trail (enable_cloudtrail) and the AWS Config rules
// (enable_config_rules) with their recorder (create_config_recorder).
func (o *Observability) addAudit() {
	cfg, st := o.cfg, o.w
	a := audit.New(o.Stack, audit.Props{
		Prefix:                         cfg.Prefix(),
		Key:                            st.Key,
		AccessLogs:                     st.AccessLogs,
		Removal:                        o.removal,
		NoncurrentVersionExpiration:    days(cfg.Lifecycle.NoncurrentVersionExpirationDays),
		AbortIncompleteMultipartUpload: days(cfg.Lifecycle.AbortIncompleteMultipartUploadDays),
		ObjectLock:                     objectLockRetention(cfg),
		Replication:                    o.auditReplication(),
		Trail:                          config.Bool(cfg.EnableCloudTrail),
		TrailLogRetention:              retention(cfg.LogRetentionDays),
		Zones:                          []audit.Zone{{ID: "Raw", Bucket: st.Raw}, {ID: "Processed", Bucket: st.Processed}, {ID: "Curated", Bucket: st.Curated}},
		ConfigRules:                    cfg.EnableConfigRules,
		ConfigRecorder:                 cfg.CreateConfigRecorder,
	})
	o.AuditBucket, o.Trail = a.Bucket, a.Trail
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

// objectLockRetention is audit_object_lock_mode for audit_object_lock_days,
// nil when off.
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
