package dataset

import (
	"strings"
	"testing"
)

func spec(name string, cols ...Column) Spec {
	base := []Column{{Name: "id", Type: String, Required: true}, {Name: "t", Type: Timestamp, Required: true}}
	return Spec{Name: name, EventTimeField: "t", Key: []string{"id"}, Columns: append(base, cols...)}
}

// TestReservedWords: Athena reserved keywords are refused as dataset and
// column names, with a message naming the word and why; ordinary names and
// names that merely contain a keyword pass.
func TestReservedWords(t *testing.T) {
	cases := []struct {
		name string
		s    Spec
		want []string
	}{
		{"select column", spec("a", Column{Name: "select", Type: String}), []string{
			`datasets[a].columns[select].name: "select" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "select_value"`}},
		{"order column", spec("a", Column{Name: "order", Type: String}), []string{
			`datasets[a].columns[order].name: "order" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "order_id"`}},
		{"group column", spec("a", Column{Name: "group", Type: String}), []string{
			`datasets[a].columns[group].name: "group" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "group_name"`}},
		{"date column", spec("a", Column{Name: "date", Type: Date}), []string{
			`datasets[a].columns[date].name: "date" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "event_date"`}},
		{"timestamp column", spec("a", Column{Name: "timestamp", Type: Timestamp}), []string{
			`datasets[a].columns[timestamp].name: "timestamp" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "event_timestamp"`}},
		{"table dataset", spec("table"), []string{
			`datasets[table].name: "table" is an Athena (Trino/Hive) reserved word: as a dataset (table) name it breaks the generated table DDL and named queries; choose another name, e.g. "table_name"`}},
		{"unnest column (Trino DML list)", spec("a", Column{Name: "unnest", Type: String}), []string{
			`datasets[a].columns[unnest].name: "unnest" is an Athena (Trino/Hive) reserved word: as a column name it breaks the generated table DDL and named queries; choose another name, e.g. "unnest_value"`}},
		{"dms dataset (the DMS landing folder)", spec("dms"), []string{
			`datasets[dms].name: "dms" is reserved: landing/dms/ is the DMS S3 target's folder`}},
		{"unknown partitioning", Spec{Name: "a", EventTimeField: "t", Key: []string{"t"}, Partitioning: "daily", Columns: []Column{{Name: "t", Type: Timestamp, Required: true}}}, []string{
			`datasets[a].partitioning: "daily" is not allowed: use one of event_day, key_bucket`}},
		{"buckets without key_bucket", Spec{Name: "a", EventTimeField: "t", Key: []string{"t"}, KeyBuckets: 8, Columns: []Column{{Name: "t", Type: Timestamp, Required: true}}}, []string{
			`datasets[a].key_buckets: is set but partitioning is "event_day": key buckets apply to partitioning "key_bucket" only`}},
		{"containing a keyword is fine", spec("orders", Column{Name: "order_date", Type: Date}, Column{Name: "selected", Type: Boolean}), nil},
		{"status and amount are fine", spec("a", Column{Name: "status", Type: String}, Column{Name: "amount", Type: Double}), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.s.Problems("datasets[" + Label(tc.s.Name, 0) + "]")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestLabel(t *testing.T) {
	for _, tc := range []struct {
		name string
		i    int
		want string
	}{{"amount", 3, "amount"}, {"", 3, "3"}, {"a.b", 1, "1"}, {"x y", 2, "2"}} {
		if got := Label(tc.name, tc.i); got != tc.want {
			t.Errorf("Label(%q, %d) = %q, want %q", tc.name, tc.i, got, tc.want)
		}
	}
}
