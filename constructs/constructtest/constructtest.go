// Package constructtest holds what every construct's tests share: a fresh
// app without the built-in validator, one synthesis with cdk-nag
// AwsSolutions on the test stack, and template lookups. The construct
// tests themselves live here too, one file per construct, in the external
// test package constructtest_test: one test binary, so jsii's Node.js
// start-up is paid once rather than once per construct package.
package constructtest

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// NewStack returns a stack in a fresh app (us-west-2, account-agnostic).
func NewStack(id string) awscdk.Stack {
	// No asset bundling (the Go Lambda would be compiled): tests read templates.
	// The app's cdk.json flag: server access logs are admitted by a bucket
	// policy, so a log bucket can enforce bucket-owner object ownership.
	ctx := map[string]any{"aws:cdk:bundling-stacks": []string{}, "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true}
	app := awscdk.NewApp(&awscdk.AppProps{BuiltinCloudFormationValidation: jsii.Bool(false), Context: &ctx})
	return awscdk.NewStack(app, jsii.String(id), &awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("us-west-2")}})
}

// Synth runs cdk-nag AwsSolutions on the stack, synthesizes its app once
// and returns the template and the error annotations, leaving out those on
// construct paths containing any of skip (the test's own scaffolding).
func Synth(stack awscdk.Stack, skip ...string) (map[string]any, []string) {
	awscdk.Aspects_Of(stack).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{}), nil)
	app := stack.Node().Root().(awscdk.App)
	asm := app.Synth(nil)
	var errs []string
next:
	for _, m := range *asm.GetStackArtifact(stack.ArtifactId()).Messages() {
		if m.Level != cxapi.SynthesisMessageLevel_ERROR {
			continue
		}
		for _, s := range skip {
			if strings.Contains(*m.Id, s) {
				continue next
			}
		}
		errs = append(errs, *m.Id+": "+fmt.Sprint(m.Entry.Data))
	}
	return *assertions.Template_FromStack(stack, nil).ToJSON(), errs
}

// OfType returns the Properties of every resource of a type.
func OfType(tpl map[string]any, typ string) []map[string]any {
	var out []map[string]any
	for _, r := range tpl["Resources"].(map[string]any) {
		if m := r.(map[string]any); m["Type"] == typ {
			p, _ := m["Properties"].(map[string]any)
			out = append(out, p)
		}
	}
	return out
}

// Main runs the construct tests (call it from TestMain): the tests build
// their fixtures lazily, then the jsii runtime closes.
func Main(m *testing.M) {
	// The pinned Node.js 22 is supported; silence jsii's warning on 20.
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

// IsolatedVpc is a two-AZ VPC with isolated subnets only, the shape of the
// lake's network.
func IsolatedVpc(stack awscdk.Stack) awsec2.Vpc {
	return awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{MaxAzs: jsii.Number(2), NatGateways: jsii.Number(0),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{Name: jsii.String("jobs"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}}})
}

// JSON is v as compact JSON text, for substring checks on template parts.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
