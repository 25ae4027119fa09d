package stacks

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"

	"github.com/example/datalake/config"
	"github.com/example/datalake/constructs/replication"
	"github.com/example/datalake/layout"
)

// newReplication builds the config block `dms` (constructs/replication) and
// returns the task's ARN.
func newReplication(stack awscdk.Stack, cfg *config.Config, st *Storage, stream awskinesis.IStream, taskSettings string) *string {
	d := cfg.DMS
	r := replication.New(stack, replication.Props{
		Prefix: cfg.Prefix(), Vpc: st.Vpc, Key: st.Key,
		SourceSecretName: d.SourceSecretName, SourceEngine: d.SourceEngine,
		SourceDatabase: d.SourceDatabase, SourceSchema: d.SourceSchema, Tables: d.Tables,
		Target: d.Target, Stream: stream, Raw: st.Raw,
		InstanceClass: d.InstanceClass, AllocatedStorageGB: d.AllocatedStorageGB,
		MultiAZ: cfg.IsProduction(), TaskSettings: taskSettings,
	})
	output(stack, "ReplicationTaskArn", r.TaskArn(), "DMS task (start it with aws dms start-replication-task)")
	return r.TaskArn()
}

// DMSLandingPath is the prefix the s3 target writes a table's files under,
// or "" when the dataset is not replicated to S3.
func DMSLandingPath(cfg *config.Config, datasetName string) string {
	if !cfg.DMS.Enabled || cfg.DMS.Target != "s3" || !slices.Contains(cfg.DMS.Tables, datasetName) {
		return ""
	}
	return layout.DMSTable(cfg.DMS.SourceSchema, datasetName)
}
