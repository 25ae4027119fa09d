// The construct tests, one file per construct, in one test binary: each
// binary pays jsii's Node.js start-up (loading aws-cdk-lib) once, so one
// binary for every construct instead of one per construct package. Each
// construct's stack is built on its own fresh app and synthesized once,
// lazily (sync.OnceValue), by the first test that reads it. No test may
// run in parallel: the jsii runtime is single-threaded.
package constructtest_test

import (
	"testing"

	"github.com/example/datalake/constructs/constructtest"
)

func TestMain(m *testing.M) {
	constructtest.Main(m)
}
