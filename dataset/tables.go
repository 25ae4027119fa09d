package dataset

import "fmt"

// Column lists of the tables each zone holds for a dataset. They mirror
// glue/lakelib (see glue/README.md, "Curated column rules"): the Glue jobs
// write these columns, the stack declares them in the catalog and the named
// queries may only name them. Tests on both sides pin the example lists.

// TableColumn is a catalog column: name and Hive type.
type TableColumn struct {
	Name string
	Type string
}

// Join declares a curated dataset that combines two datasets per day on
// shared string columns (e.g. clickstream and orders per customer).
type Join struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Datasets    []string `json:"datasets"`
	On          []string `json:"on"`
}

// RawColumns are the columns of the raw (JSON envelope) table. Timestamps
// and dates stay strings: the raw zone keeps what producers sent.
func RawColumns(s Spec) []TableColumn {
	data := "struct<"
	for i, c := range s.Columns {
		if i > 0 {
			data += ","
		}
		t := string(c.Type)
		if c.Type == Timestamp || c.Type == Date {
			t = "string"
		}
		data += c.Name + ":" + t
	}
	data += ">"
	return []TableColumn{{"dataset", "string"}, {"received_at", "bigint"}, {"data", data}}
}

// ProcessedColumns: the declared columns in order, then the delete marker
// (DMS deletes) and the arrival time used to break de-duplication ties.
// The marker is not "_deleted": Iceberg reserves that name for its
// metadata column and refuses a table declaring it.
func ProcessedColumns(s Spec) []TableColumn {
	out := make([]TableColumn, 0, len(s.Columns)+3)
	for _, c := range s.Columns {
		out = append(out, TableColumn{c.Name, string(c.Type)})
	}
	// _change_seq: the source's change sequence (DMS AR_H_CHANGE_SEQ,
	// zero-padded), which orders the changes of one transaction.
	return append(out, TableColumn{"_is_deleted", "boolean"}, TableColumn{"_received_at", "timestamp"}, TableColumn{"_change_seq", "string"})
}

// DailyTable names the curated daily aggregate of a dataset.
func DailyTable(s Spec) string { return s.Name + "_daily" }

// DailyColumns: group_by columns, record_count, distinct_keys, then
// sum_/min_/max_ of each numeric column with its type.
func DailyColumns(s Spec) []TableColumn {
	var out []TableColumn
	for _, g := range s.GroupBy {
		out = append(out, TableColumn{g, "string"})
	}
	out = append(out, TableColumn{"record_count", "bigint"}, TableColumn{"distinct_keys", "bigint"})
	for _, c := range s.NumericColumns() {
		for _, agg := range []string{"sum_", "min_", "max_"} {
			out = append(out, TableColumn{agg + c.Name, string(c.Type)})
		}
	}
	return out
}

// JoinColumns: the on columns, then per dataset (join order)
// <d>_record_count and <d>_sum_<c> for each numeric column.
func JoinColumns(j Join, specs []Spec) ([]TableColumn, error) {
	byName := map[string]Spec{}
	for _, s := range specs {
		byName[s.Name] = s
	}
	if len(j.Datasets) == 0 {
		return nil, fmt.Errorf("join %s: no datasets", j.Name)
	}
	first, ok := byName[j.Datasets[0]]
	if !ok {
		return nil, fmt.Errorf("join %s: unknown dataset %s", j.Name, j.Datasets[0])
	}
	var out []TableColumn
	for _, on := range j.On {
		c, ok := first.Column(on)
		if !ok {
			return nil, fmt.Errorf("join %s: %s has no column %s", j.Name, first.Name, on)
		}
		out = append(out, TableColumn{on, string(c.Type)})
	}
	for _, dn := range j.Datasets {
		d, ok := byName[dn]
		if !ok {
			return nil, fmt.Errorf("join %s: unknown dataset %s", j.Name, dn)
		}
		out = append(out, TableColumn{dn + "_record_count", "bigint"})
		for _, c := range d.NumericColumns() {
			out = append(out, TableColumn{dn + "_sum_" + c.Name, string(c.Type)})
		}
	}
	return out, nil
}
