package compliance

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StatefulTypes are the CloudFormation types whose deletion loses data or
// makes data unreadable (a deleted key makes every object it encrypted
// unreadable).
var StatefulTypes = []string{
	"AWS::S3::Bucket",
	"AWS::KMS::Key",
	"AWS::Kinesis::Stream",
	"AWS::Glue::Database",
	"AWS::Logs::LogGroup",
}

// RetainCheck is an aspect that reports an error on every stateful resource
// whose deletion policy is not Retain. It is the last line of defence
// behind the config rule that refuses allow_destroy in production: a code
// change that sets DESTROY still cannot reach a protected environment.
//
// The struct must not be zero-sized and is used through a pointer: jsii
// tracks Go objects by address.
type RetainCheck struct {
	Types []string
}

// Visit implements awscdk.IAspect.
func (r *RetainCheck) Visit(node constructs.IConstruct) {
	res, ok := node.(awscdk.CfnResource)
	if !ok {
		return
	}
	t := *res.CfnResourceType()
	for _, s := range r.Types {
		if s != t {
			continue
		}
		if policy := deletionPolicy(res); policy != "Retain" {
			awscdk.Annotations_Of(node).AddError(jsii.String(fmt.Sprintf(
				"retain check: %s has DeletionPolicy %q; stateful resources in this environment must be retained (allow_destroy is off or the environment is production)",
				t, policy)))
		}
		return
	}
}

func deletionPolicy(res awscdk.CfnResource) string {
	opts := res.CfnOptions()
	if opts == nil || opts.DeletionPolicy() == "" {
		return "Delete" // CloudFormation's default
	}
	switch opts.DeletionPolicy() {
	case awscdk.CfnDeletionPolicy_RETAIN:
		return "Retain"
	case awscdk.CfnDeletionPolicy_SNAPSHOT:
		return "Snapshot"
	case awscdk.CfnDeletionPolicy_RETAIN_EXCEPT_ON_CREATE:
		return "RetainExceptOnCreate"
	}
	return "Delete"
}
