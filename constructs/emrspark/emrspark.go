// Package emrspark is the optional EMR Serverless Spark application for
// heavy processing: it starts on job submission, stops when idle, is capped,
// runs in the private network, logs to S3 with the lake key, and comes with
// the runtime role its jobs run as (read the lake, write processed and
// curated, read the catalog). L1 only: aws-cdk-lib has no EMR Serverless L2.
//
// Resources keep the caller's scope and the ids the processing stack used.
package emrspark

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsemrserverless"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure the application.
type Props struct {
	// Name of the application. Required.
	Name string
	// ReleaseLabel, e.g. emr-7.5.0. Required.
	ReleaseLabel string
	// MaxVcpu and MaxMemoryGB cap the application. Defaults: 16 and 64.
	MaxVcpu, MaxMemoryGB int
	// IdleTimeoutMinutes stops an idle application. Default: 15.
	IdleTimeoutMinutes int
	// Subnets and SecurityGroup place the workers. Required.
	Subnets       []awsec2.ISubnet
	SecurityGroup awsec2.ISecurityGroup
	// Logs receives the job logs under LogPrefix, encrypted with Key.
	// Required; LogPrefix default: _emr/logs/.
	Logs      awss3.IBucket
	LogPrefix string
	Key       awskms.IKey
	// Read and Write are the buckets the jobs read, and read and write.
	Read, Write []awss3.IBucket
	// Grant gives the runtime role what else it needs (e.g. catalog reads).
	// Default: nothing more.
	Grant func(role awsiam.IRole)
}

// Application is the built application and its jobs' runtime role.
type Application struct {
	Resource awsemrserverless.CfnApplication
	JobRole  awsiam.Role
}

// ApplicationID is the application's id, for event rules and job submission.
func (a *Application) ApplicationID() *string { return a.Resource.AttrApplicationId() }

// New builds the application in scope.
func New(scope constructs.Construct, p Props) *Application {
	if p.Name == "" || p.ReleaseLabel == "" || len(p.Subnets) == 0 || p.SecurityGroup == nil || p.Logs == nil || p.Key == nil {
		panic("emrspark: Name, ReleaseLabel, Subnets, SecurityGroup, Logs and Key are required")
	}
	if p.MaxVcpu == 0 {
		p.MaxVcpu = 16
	}
	if p.MaxMemoryGB == 0 {
		p.MaxMemoryGB = 64
	}
	if p.IdleTimeoutMinutes == 0 {
		p.IdleTimeoutMinutes = 15
	}
	if p.LogPrefix == "" {
		p.LogPrefix = "_emr/logs/"
	}
	subnets := make([]*string, 0, len(p.Subnets))
	for _, s := range p.Subnets {
		subnets = append(subnets, s.SubnetId())
	}
	app := awsemrserverless.NewCfnApplication(scope, jsii.String("EmrApplication"), &awsemrserverless.CfnApplicationProps{
		Name:                   jsii.String(p.Name),
		Type:                   jsii.String("SPARK"),
		ReleaseLabel:           jsii.String(p.ReleaseLabel),
		Architecture:           jsii.String("ARM64"),
		AutoStartConfiguration: &awsemrserverless.CfnApplication_AutoStartConfigurationProperty{Enabled: jsii.Bool(true)},
		AutoStopConfiguration: &awsemrserverless.CfnApplication_AutoStopConfigurationProperty{
			Enabled: jsii.Bool(true), IdleTimeoutMinutes: jsii.Number(float64(p.IdleTimeoutMinutes)),
		},
		MaximumCapacity: &awsemrserverless.CfnApplication_MaximumAllowedResourcesProperty{
			Cpu:    jsii.String(strconv.Itoa(p.MaxVcpu) + " vCPU"),
			Memory: jsii.String(strconv.Itoa(p.MaxMemoryGB) + " GB"),
		},
		NetworkConfiguration: &awsemrserverless.CfnApplication_NetworkConfigurationProperty{
			SubnetIds:        &subnets,
			SecurityGroupIds: &[]*string{p.SecurityGroup.SecurityGroupId()},
		},
		MonitoringConfiguration: &awsemrserverless.CfnApplication_MonitoringConfigurationProperty{
			S3MonitoringConfiguration: &awsemrserverless.CfnApplication_S3MonitoringConfigurationProperty{
				LogUri:           jsii.String("s3://" + *p.Logs.BucketName() + "/" + p.LogPrefix),
				EncryptionKeyArn: p.Key.KeyArn(),
			},
		},
	})
	stack := awscdk.Stack_Of(scope)
	role := awsiam.NewRole(scope, jsii.String("EmrJobRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("emr-serverless.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": stack.Account()}},
		}),
		Description: jsii.String("Runtime role of EMR Serverless jobs on the lake"),
	})
	for _, b := range p.Read {
		b.GrantRead(role, nil)
	}
	for _, b := range p.Write {
		b.GrantReadWrite(role, nil)
	}
	if p.Grant != nil {
		p.Grant(role)
	}
	return &Application{Resource: app, JobRole: role}
}
