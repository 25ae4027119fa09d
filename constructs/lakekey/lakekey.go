// Package lakekey is the environment's one KMS key: rotated, with a 30-day
// deletion window, an alias, and a key policy that lets the AWS services
// which encrypt on their own behalf (CloudWatch Logs, CloudTrail, the alarm
// publishers) use it from this account only, and refuses grants that are
// not for an AWS resource.
//
// One key per environment, not one per zone: every reader of a zone is
// already limited by IAM and the bucket policies, and per-zone keys would
// multiply key policies and grants for every job that crosses zones (each
// ETL reads one zone and writes the next) without narrowing who can read
// what. Classification separation belongs to IAM/Lake Formation.
//
// The key keeps the caller's scope and id (a deployed contract: a new key
// cannot read the objects of the old one).
package lakekey

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/compliance"
)

// Props configure the key.
type Props struct {
	// Description of the key. Required.
	Description string
	// Alias without "alias/". Required.
	Alias string
	// Destroy lets a stack delete schedule the key's deletion. Default:
	// false (retained).
	Destroy bool
}

// New builds the key as scope/id.
func New(scope constructs.Construct, id string, p Props) awskms.Key {
	if p.Description == "" || p.Alias == "" {
		panic("lakekey: Description and Alias are required")
	}
	removal := compliance.Removal(p.Destroy)
	key := awskms.NewKey(scope, jsii.String(id), &awskms.KeyProps{
		Description:       jsii.String(p.Description),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(30)),
	})
	key.AddAlias(jsii.String("alias/" + p.Alias))
	allowServices(awscdk.Stack_Of(scope), key)
	return key
}

// allowServices lets the AWS services that encrypt with the key on
// their own behalf use it, each scoped to this account. Services that act
// through our IAM roles (Kinesis, Firehose, Glue, Athena, Lambda) get
// grants on those roles instead; the key's default statement delegates to
// IAM in this account.
func allowServices(stack awscdk.Stack, key awskms.Key) {
	account, region := stack.Account(), stack.Region()
	sourceAccount := map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": account}}
	add := func(sid string, principal string, actions []string, cond map[string]interface{}) {
		key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String(principal), nil)},
			Actions:    jsii.Strings(actions...),
			Resources:  jsii.Strings("*"),
			Conditions: &cond,
		}), jsii.Bool(false))
	}
	// CloudWatch Logs encrypts log groups; the encryption context names the
	// log group, so only this account's log groups qualify.
	add("AllowCloudWatchLogs", *awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("logs."), region, jsii.String(".amazonaws.com")}),
		[]string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
		map[string]interface{}{"ArnLike": map[string]interface{}{
			"kms:EncryptionContext:aws:logs:arn": awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), stack.Partition(), jsii.String(":logs:"), region, jsii.String(":"), account, jsii.String(":log-group:*")}),
		}})
	// CloudTrail encrypts log files for this account's trails.
	add("AllowCloudTrailEncrypt", "cloudtrail.amazonaws.com", []string{"kms:GenerateDataKey*"},
		map[string]interface{}{"StringLike": map[string]interface{}{
			"kms:EncryptionContext:aws:cloudtrail:arn": awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("arn:"), stack.Partition(), jsii.String(":cloudtrail:*:"), account, jsii.String(":trail/*")}),
		}, "StringEquals": map[string]interface{}{"aws:SourceAccount": account}})
	add("AllowCloudTrailDescribe", "cloudtrail.amazonaws.com", []string{"kms:DescribeKey"}, sourceAccount)
	// Alarm publishers write to the KMS-encrypted alarm topic.
	for _, svc := range []struct{ sid, principal string }{
		{"AllowCloudWatchAlarms", "cloudwatch.amazonaws.com"},
		{"AllowBudgets", "budgets.amazonaws.com"},
	} {
		add(svc.sid, svc.principal, []string{"kms:Decrypt", "kms:GenerateDataKey*"}, sourceAccount)
	}
	// EventBridge gets the same actions WITHOUT a condition: "aws:SourceAccount,
	// aws:SourceArn and aws:SourceOrgID are not supported in a KMS key policy"
	// for EventBridge publishing to an encrypted topic (SNS developer guide,
	// sns-key-management.html, "Enable compatibility between event sources
	// from AWS services and encrypted topics"); with one, every rule's
	// delivery fails. The topic policy still admits this account's rules only.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowEventBridge"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), jsii.Bool(false))
	// Grants are how AWS services (Kinesis, Firehose, Lambda, DMS, Logs) use
	// the key on our behalf; a principal allowed kms:* must not be able to
	// hand the key to anyone else by a grant of its own (Control Tower
	// CT.KMS.PR.3-style finding). kms:GrantIsForAWSResource is true only
	// when an integrated AWS service creates the grant.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DenyGrantsNotForAwsResources"),
		Effect:     awsiam.Effect_DENY,
		Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
		Actions:    jsii.Strings("kms:CreateGrant"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]interface{}{"Bool": map[string]interface{}{"kms:GrantIsForAWSResource": "false"}},
	}), jsii.Bool(false))
}
