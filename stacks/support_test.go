package stacks

import (
	"testing"

	"github.com/example/datalake/config"
)

// Every retention the config accepts must map onto the CDK enum, or a valid
// config would panic at synth.
func TestEveryConfigRetentionMaps(t *testing.T) {
	for _, d := range config.LogRetentionValues {
		if _, ok := retentionByDays[d]; !ok {
			t.Errorf("log_retention_days %d is accepted by config but has no CDK value", d)
		}
	}
	if len(retentionByDays) != len(config.LogRetentionValues) {
		t.Errorf("%d CDK values for %d config values", len(retentionByDays), len(config.LogRetentionValues))
	}
}

func TestHighestClassification(t *testing.T) {
	if got := highest("internal", "restricted", "public"); got != "restricted" {
		t.Errorf("highest = %s", got)
	}
}
