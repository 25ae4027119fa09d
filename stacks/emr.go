package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/catalog"
	"github.com/example/datalake/constructs/compliance"
	"github.com/example/datalake/constructs/emrspark"
)

// newEmrApplication creates the optional EMR Serverless application
// (constructs/emrspark) for heavy processing across datasets: its jobs read
// every zone and the catalog database, and write processed and curated.
func newEmrApplication(stack awscdk.Stack, cfg *config.Config, st *Storage) *string {
	app := emrspark.New(stack, emrspark.Props{
		Name: cfg.Prefix() + "-spark", ReleaseLabel: cfg.EmrReleaseLabel,
		MaxVcpu: cfg.EmrMaxVcpu, MaxMemoryGB: cfg.EmrMaxMemoryGB, IdleTimeoutMinutes: cfg.EmrIdleTimeoutMinutes,
		Subnets: *st.Vpc.IsolatedSubnets(), SecurityGroup: st.JobSecurityGroup,
		Logs: st.Processed, Key: st.Key,
		Read:  []awss3.IBucket{st.Raw},
		Write: []awss3.IBucket{st.Processed, st.Curated},
		Grant: func(role awsiam.IRole) { catalog.GrantRead(role, cfg.DataCatalogDatabaseName, "*") },
	})
	compliance.GrantWildcards(app.JobRole, "EMR jobs read every zone and write processed and curated data (heavy processing across datasets).", idRaw, idProcessed, idCurated)
	compliance.Suppress(app.JobRole, compliance.Suppression{
		ID:             "AwsSolutions-IAM5",
		Reason:         "EMR jobs may read every table of the lake's catalog database (heavy processing across datasets); nothing outside it.",
		AppliesToRegex: []string{`/^Resource::arn:.*:table\/.*\/\*$/g`},
	})
	output(stack, "EmrApplicationId", app.ApplicationID(), "EMR Serverless application for heavy Spark processing")
	output(stack, "EmrJobRoleArn", app.JobRole.RoleArn(), "Role to pass as executionRoleArn when submitting EMR Serverless jobs")
	return app.ApplicationID()
}
