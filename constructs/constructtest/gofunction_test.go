package constructtest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/example/datalake/constructs/constructtest"
	"github.com/example/datalake/constructs/gofunction"
)

// gofunctionFixture returns function id -> its Code JSON, synthesized once,
// on first use.
//
// The same sources reached through two paths (the checkout here and a
// symlink to it, as a CI checkout elsewhere would be) and once with other
// bundled Files.
var gofunctionFixture = sync.OnceValue(func() map[string]string {
	codes := map[string]string{} // function id -> its Code JSON
	root, _ := filepath.Abs("../..")
	link := filepath.Join(os.TempDir(), "gofunction-test-checkout")
	os.Remove(link)
	if err := os.Symlink(root, link); err != nil {
		panic(err)
	}
	defer os.Remove(link)
	stack := constructtest.NewStack("Fn")
	key := awskms.NewKey(stack, jsii.String("Key"), &awskms.KeyProps{EnableKeyRotation: jsii.Bool(true)})
	fn := func(id, dir string, files map[string][]byte) {
		gofunction.New(stack, id, gofunction.Props{ModuleDir: dir, Package: "./functions/validator", Files: files, Key: key, LogRetention: awslogs.RetentionDays_ONE_WEEK})
	}
	fn("Here", root, map[string][]byte{"a.json": []byte("1")})
	fn("Elsewhere", link, map[string][]byte{"a.json": []byte("1")})
	fn("OtherFiles", root, map[string][]byte{"a.json": []byte("2")})
	tpl, _ := constructtest.Synth(stack)
	for id, r := range tpl["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::Lambda::Function" {
			b, _ := json.Marshal(r["Properties"].(map[string]any)["Code"])
			codes[id[:len(id)-8]] = string(b)
		}
	}
	return codes
})

// The asset hash is the sources' and the bundled files', not the
// checkout's path: a pipeline checkout must not see a code change that a
// developer's does not (the bundler's fields once leaked into CDK's hash).
func TestAssetHashIgnoresTheCheckoutPath(t *testing.T) {
	codes := gofunctionFixture()
	if len(codes) != 3 {
		t.Fatalf("functions = %v", codes)
	}
	if codes["Here"] != codes["Elsewhere"] {
		t.Errorf("same sources, different checkout path: %s vs %s", codes["Here"], codes["Elsewhere"])
	}
	if codes["Here"] == codes["OtherFiles"] {
		t.Errorf("other bundled files, same asset: %s", codes["Here"])
	}
}
