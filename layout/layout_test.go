package layout

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Python side of the layout (the Glue jobs' partitions, the replay
// command, the validator's partition keys) must agree with this package.
func TestOtherLanguagesAgree(t *testing.T) {
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join("..", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	replay := read("ingestion/replay/replay_errors.py")
	for _, want := range []string{`ERRORS_PREFIX = "` + Errors + `"`, `LANDING_PREFIX = "` + Landing + `"`} {
		if !strings.Contains(replay, want) {
			t.Errorf("ingestion/replay/replay_errors.py lacks %s", want)
		}
	}
	if q := read("glue/lakelib/quality.py"); !strings.Contains(q, `VERDICT_FILE = "verdict.json"`) || !strings.HasSuffix(Verdict("x"), "/verdict.json") {
		t.Error("the verdict file name differs between layout and glue/lakelib/quality.py")
	}
	if p := read("glue/lakelib/schema.py"); !strings.Contains(p, `PARTITION_COLUMN = "`+DayKey+`"`) {
		t.Errorf("glue/lakelib/schema.py partition column is not %q", DayKey)
	}
	if c := read("glue/lakelib/curated.py"); !strings.Contains(c, `DAILY_SUFFIX = "`+DailySuffix+`"`) {
		t.Errorf("glue/lakelib/curated.py daily suffix is not %q", DailySuffix)
	}
	v := read("functions/validator/handler.go") + read("functions/validator/validate.go")
	for _, k := range []string{SourceKey, DayKey} {
		if !regexp.MustCompile(`"` + k + `"`).MatchString(v) {
			t.Errorf("the validator does not name the partition key %q", k)
		}
	}
}

func TestPrefixes(t *testing.T) {
	for got, want := range map[string]string{
		FirehosePrefix:                    "source=!{partitionKeyFromLambda:source}/dt=!{partitionKeyFromLambda:dt}/",
		ErrorOutputPrefix:                 "errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/",
		Source("orders"):                  "source=orders/",
		DMSTable("public", "o"):           "landing/dms/public/o/",
		Verdict("orders"):                 "_quality/orders/verdict.json",
		CuratedData(DailyTable("orders")): "orders_daily/data/",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
