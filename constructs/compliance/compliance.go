// Package compliance holds the synth-time gates every stack gets: the
// cdk-nag AwsSolutions pack, a check that stateful resources are retained,
// and a readable way to record a suppression next to its resource.
package compliance

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Gate adds the gates to one stack. Aspects added to the App do not reach
// stacks inside a Stage (pipeline mode), so the builder calls this per stack.
// retainRequired turns on the retain check (every environment that does not
// explicitly allow destroying its data).
func Gate(stack awscdk.Stack, retainRequired bool) {
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	if retainRequired {
		awscdk.Aspects_Of(stack).Add(&RetainCheck{Types: StatefulTypes}, nil)
	}
}

// Suppression is one acknowledged cdk-nag rule: the rule id, why it cannot
// pass by design, and (where the finding names them) the exact resources or
// actions it applies to.
type Suppression struct {
	ID        string
	Reason    string
	AppliesTo []string
	// AppliesToRegex matches findings whose text carries generated names
	// (logical ids, cross-stack import names), e.g. `^Resource::.*RawBucket.*/\*$`.
	AppliesToRegex []string
}

// GrantActions are the action families the CDK's grant methods
// (grantRead, grantWrite, grantReadWrite on buckets and keys) emit. They
// are wildcards by CDK design, each scoped to the granted resource.
var GrantActions = []string{
	"Action::s3:Abort*", "Action::s3:DeleteObject*", "Action::s3:GetBucket*", "Action::s3:GetObject*",
	"Action::s3:List*", "Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*",
}

// GrantWildcards acknowledges the IAM5 findings of CDK grants on a role or
// policy: the grant action families, and object-level resources of the
// named buckets (their construct ids) and nothing else.
func GrantWildcards(construct constructs.IConstruct, why string, bucketIDs ...string) {
	s := Suppression{
		ID:        "AwsSolutions-IAM5",
		Reason:    "CDK grant methods: " + why + " The wildcards are the grant's action families and the objects of the granted buckets only.",
		AppliesTo: GrantActions,
	}
	for _, b := range bucketIDs {
		s.AppliesToRegex = append(s.AppliesToRegex, `/^Resource::.*`+b+`.*\/[^/]*\*$/g`)
	}
	Suppress(construct, s)
}

// Suppress records suppressions on construct and its children. It panics on
// an empty reason: a suppression without a reason is a hidden finding.
func Suppress(construct constructs.IConstruct, s ...Suppression) {
	list := make([]*cdknag.NagPackSuppression, 0, len(s))
	for _, x := range s {
		if x.Reason == "" || x.ID == "" {
			panic(fmt.Sprintf("compliance: suppression of %q on %s needs an id and a reason", x.ID, *construct.Node().Path()))
		}
		n := &cdknag.NagPackSuppression{Id: jsii.String(x.ID), Reason: jsii.String(x.Reason)}
		if len(x.AppliesTo)+len(x.AppliesToRegex) > 0 {
			applies := make([]interface{}, 0, len(x.AppliesTo)+len(x.AppliesToRegex))
			for _, a := range x.AppliesTo {
				applies = append(applies, a)
			}
			for _, r := range x.AppliesToRegex {
				applies = append(applies, &cdknag.RegexAppliesTo{Regex: jsii.String(r)})
			}
			n.AppliesTo = &applies
		}
		list = append(list, n)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &list, jsii.Bool(true))
}

// SuppressPath records suppressions on a construct the CDK creates outside
// our code (a stack-level singleton such as the bucket notifications
// handler), by its path inside stack.
func SuppressPath(stack awscdk.Stack, path string, s ...Suppression) {
	c := stack.Node().TryFindChild(jsii.String(path))
	if c == nil {
		panic("compliance: no construct " + path + " in " + *stack.StackName())
	}
	Suppress(c, s...)
}

// Removal is the removal policy of a stateful resource: retained unless
// destroy (the double opt-in of a non-production environment) says
// otherwise, which the retain check then allows.
func Removal(destroy bool) awscdk.RemovalPolicy {
	if destroy {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}
