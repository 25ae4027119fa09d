package constructtest_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/lakekey"
)

// lakekeyBuilt is what the lakekey tests read.
type lakekeyBuilt struct {
	tpl       map[string]any
	nagErrors []string
}

// lakekeyFixture synthesizes the lakekey stack once, on first use.
var lakekeyFixture = sync.OnceValue(func() (b lakekeyBuilt) {
	stack := constructtest.NewStack("Key")
	lakekey.New(stack, "LakeKey", lakekey.Props{Description: "test lake", Alias: "t-lake"})
	b.tpl, b.nagErrors = constructtest.Synth(stack)
	return b
})

func statements(t *testing.T) map[string]map[string]any {
	t.Helper()
	keys := constructtest.OfType(lakekeyFixture().tpl, "AWS::KMS::Key")
	if len(keys) != 1 {
		t.Fatalf("keys = %v", keys)
	}
	out := map[string]map[string]any{}
	for _, s := range keys[0]["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		s := s.(map[string]any)
		sid, _ := s["Sid"].(string)
		out[sid] = s
	}
	return out
}

// Rotated, 30-day deletion window, aliased, retained.
func TestKeySettings(t *testing.T) {
	tpl := lakekeyFixture().tpl
	k := constructtest.OfType(tpl, "AWS::KMS::Key")[0]
	if k["EnableKeyRotation"] != true || k["PendingWindowInDays"] != float64(30) {
		t.Errorf("key = %s", constructtest.JSON(k))
	}
	if a := constructtest.OfType(tpl, "AWS::KMS::Alias"); len(a) != 1 || a[0]["AliasName"] != "alias/t-lake" {
		t.Errorf("alias = %v", a)
	}
	for _, r := range tpl["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::KMS::Key" && r["DeletionPolicy"] != "Retain" {
			t.Errorf("key DeletionPolicy = %v", r["DeletionPolicy"])
		}
	}
}

// The services that encrypt on their own behalf are admitted from this
// account only (EventBridge excepted: KMS key policies do not support a
// source condition for it, SNS developer guide), and grants not for an AWS
// resource are refused to everyone.
func TestServicesScopedToThisAccount(t *testing.T) {
	st := statements(t)
	for sid, cond := range map[string]string{
		"AllowCloudWatchLogs":     "kms:EncryptionContext:aws:logs:arn",
		"AllowCloudTrailEncrypt":  "kms:EncryptionContext:aws:cloudtrail:arn",
		"AllowCloudTrailDescribe": "aws:SourceAccount",
		"AllowCloudWatchAlarms":   "aws:SourceAccount",
		"AllowBudgets":            "aws:SourceAccount",
	} {
		s := st[sid]
		if s == nil || !strings.Contains(constructtest.JSON(s["Condition"]), cond) {
			t.Errorf("%s = %v, want a %s condition", sid, s, cond)
		}
	}
	if eb := st["AllowEventBridge"]; eb == nil || eb["Condition"] != nil {
		t.Errorf("AllowEventBridge = %v (a condition breaks delivery to the encrypted topic)", eb)
	}
	deny := st["DenyGrantsNotForAwsResources"]
	if deny == nil || deny["Effect"] != "Deny" || !strings.Contains(constructtest.JSON(deny["Condition"]), `"kms:GrantIsForAWSResource":"false"`) {
		t.Errorf("grant deny = %v", deny)
	}
}

func TestLakeKeyPassesCdkNag(t *testing.T) {
	for _, e := range lakekeyFixture().nagErrors {
		t.Error(e)
	}
}
