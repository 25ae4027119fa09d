package dataset

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func examples(t *testing.T) ([]Spec, []Join) {
	t.Helper()
	b, err := os.ReadFile("../cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Context struct {
			Datasets []Spec `json:"datasets"`
			Joins    []Join `json:"joins"`
		} `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Context.Datasets, f.Context.Joins
}

func render(cols []TableColumn) string {
	var s []string
	for _, c := range cols {
		s = append(s, c.Name+" "+c.Type)
	}
	return strings.Join(s, ", ")
}

// The same lists glue/tests/test_curated.py asserts (glue/README.md): if
// either side changes its rule, one of the two tests fails.
func TestCuratedColumnsMirrorTheGlueJobs(t *testing.T) {
	specs, joins := examples(t)
	want := map[string]string{
		"clickstream_daily": "event_type string, record_count bigint, distinct_keys bigint, sum_duration_ms bigint, min_duration_ms bigint, max_duration_ms bigint",
		"orders_daily":      "status string, record_count bigint, distinct_keys bigint, sum_amount double, min_amount double, max_amount double, sum_item_count bigint, min_item_count bigint, max_item_count bigint",
		"customer_activity": "customer_id string, clickstream_record_count bigint, clickstream_sum_duration_ms bigint, orders_record_count bigint, orders_sum_amount double, orders_sum_item_count bigint",
	}
	for _, s := range specs {
		if _, example := want[DailyTable(s)]; !example {
			continue // a dataset added to cdk.json: the rule is the same, the examples pin it
		}
		if got := render(DailyColumns(s)); got != want[DailyTable(s)] {
			t.Errorf("%s:\n got %s\nwant %s", DailyTable(s), got, want[DailyTable(s)])
		}
	}
	cols, err := JoinColumns(joins[0], specs)
	if err != nil {
		t.Fatal(err)
	}
	if got := render(cols); got != want[joins[0].Name] {
		t.Errorf("%s:\n got %s\nwant %s", joins[0].Name, got, want[joins[0].Name])
	}
}

func TestProcessedAndRawColumns(t *testing.T) {
	specs, _ := examples(t)
	got := render(ProcessedColumns(specs[1]))
	want := "order_id string, customer_id string, status string, amount double, currency string, item_count bigint, updated_at timestamp, _is_deleted boolean, _received_at timestamp, _change_seq string"
	if got != want {
		t.Errorf("processed orders:\n got %s\nwant %s", got, want)
	}
	raw := RawColumns(specs[1])
	if raw[2].Type != "struct<order_id:string,customer_id:string,status:string,amount:double,currency:string,item_count:bigint,updated_at:string>" {
		t.Errorf("raw data struct = %s", raw[2].Type)
	}
}

func TestJoinErrors(t *testing.T) {
	specs, _ := examples(t)
	if _, err := JoinColumns(Join{Name: "x", Datasets: []string{"nope"}}, specs); err == nil {
		t.Error("unknown dataset accepted")
	}
}
