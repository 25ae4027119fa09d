package stacks

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsemrserverless"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/compliance"
)

// newEmrApplication creates the optional EMR Serverless Spark application
// for heavy processing: it starts on job submission, stops when idle, is
// capped by config, runs in the private network and logs to the processed
// zone's _emr/ prefix with the lake key. Jobs run as the role it outputs,
// which may read the lake and write processed and curated data. L1 only:
// aws-cdk-lib has no EMR Serverless L2.
func newEmrApplication(stack awscdk.Stack, cfg *config.Config, st *Storage) *string {
	var subnets []*string
	for _, s := range *st.Vpc.IsolatedSubnets() {
		subnets = append(subnets, s.SubnetId())
	}
	app := awsemrserverless.NewCfnApplication(stack, jsii.String("EmrApplication"), &awsemrserverless.CfnApplicationProps{
		Name:                   jsii.String(cfg.Prefix() + "-spark"),
		Type:                   jsii.String("SPARK"),
		ReleaseLabel:           jsii.String(cfg.EmrReleaseLabel),
		Architecture:           jsii.String("ARM64"),
		AutoStartConfiguration: &awsemrserverless.CfnApplication_AutoStartConfigurationProperty{Enabled: jsii.Bool(true)},
		AutoStopConfiguration: &awsemrserverless.CfnApplication_AutoStopConfigurationProperty{
			Enabled: jsii.Bool(true), IdleTimeoutMinutes: jsii.Number(float64(cfg.EmrIdleTimeoutMinutes)),
		},
		MaximumCapacity: &awsemrserverless.CfnApplication_MaximumAllowedResourcesProperty{
			Cpu:    jsii.String(fmtInt(cfg.EmrMaxVcpu) + " vCPU"),
			Memory: jsii.String(fmtInt(cfg.EmrMaxMemoryGB) + " GB"),
		},
		NetworkConfiguration: &awsemrserverless.CfnApplication_NetworkConfigurationProperty{
			SubnetIds:        &subnets,
			SecurityGroupIds: &[]*string{st.JobSecurityGroup.SecurityGroupId()},
		},
		MonitoringConfiguration: &awsemrserverless.CfnApplication_MonitoringConfigurationProperty{
			S3MonitoringConfiguration: &awsemrserverless.CfnApplication_S3MonitoringConfigurationProperty{
				LogUri:           jsii.String("s3://" + *st.Processed.BucketName() + "/_emr/logs/"),
				EncryptionKeyArn: st.Key.KeyArn(),
			},
		},
	})
	role := awsiam.NewRole(stack, jsii.String("EmrJobRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("emr-serverless.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()}},
		}),
		Description: jsii.String("Runtime role of EMR Serverless jobs on the lake"),
	})
	st.Raw.GrantRead(role, nil)
	st.Processed.GrantReadWrite(role, nil)
	st.Curated.GrantReadWrite(role, nil)
	grantCatalogRead(role, stack, cfg.DataCatalogDatabaseName, "*")
	compliance.GrantWildcards(role, "EMR jobs read every zone and write processed and curated data (heavy processing across datasets).", idRaw, idProcessed, idCurated)
	compliance.Suppress(role, compliance.Suppression{
		ID:             "AwsSolutions-IAM5",
		Reason:         "EMR jobs may read every table of the lake's catalog database (heavy processing across datasets); nothing outside it.",
		AppliesToRegex: []string{`/^Resource::arn:.*:table\/.*\/\*$/g`},
	})
	output(stack, "EmrApplicationId", app.AttrApplicationId(), "EMR Serverless application for heavy Spark processing")
	output(stack, "EmrJobRoleArn", role.RoleArn(), "Role to pass as executionRoleArn when submitting EMR Serverless jobs")
	return app.AttrApplicationId()
}

func fmtInt(i int) string { return strconv.Itoa(i) }
