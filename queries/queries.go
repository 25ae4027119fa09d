// Package queries holds the SQL that the analytics stack saves as named
// queries in the Athena workgroup. Each `*.sql` file is a Go text/template:
// files named `dataset_*.sql` are rendered once per dataset, `join_*.sql`
// once per join, at synth time, from the same declarations that define the
// tables (package dataset). The first lines of a file are its header:
//
//	-- name: daily volume
//	-- description: what the query answers
//
// Queries run in the Athena database (the quarantine tables); the processed
// and curated tables are Apache Iceberg tables of the catalog database and
// are named with it. `dataset_iceberg_*.sql` use Athena's Apache Iceberg statements
// on the processed table: its history ($snapshots), time travel, OPTIMIZE
// and VACUUM. test/analytics_test.go parses every rendered query and checks
// each table and column against the declarations.
package queries

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/example/datalake/dataset"
)

//go:embed *.sql
var files embed.FS

// Dataset is what a dataset_*.sql template sees.
type Dataset struct {
	// Name of the dataset.
	Name string
	// Daily is the curated daily table, qualified with the catalog
	// database; Quarantine a table of the Athena database.
	Daily, Quarantine string
	// Processed is the processed table, qualified with the catalog database;
	// CatalogDatabase and Table are its two parts (Iceberg metadata tables
	// such as "<db>"."<table>$snapshots" need them quoted apart).
	Processed, CatalogDatabase, Table string
	// GroupBy, Key and EventTime come from the declaration.
	GroupBy, Key []string
	EventTime    string
	// FreshnessHours is the freshness alarm threshold.
	FreshnessHours int
}

// Join is what a join_*.sql template sees.
type Join struct {
	// Join is the curated join table (the join's name), qualified with the
	// catalog database.
	Join string
	// On and Datasets come from the declaration; Columns are the table's
	// columns (dataset.JoinColumns) without dt.
	On, Datasets, Columns []string
}

// Query is one rendered named query.
type Query struct {
	// Subject is the dataset or join the query is about.
	Subject string
	// Template is the file name without `.sql` (e.g. dataset_daily_volume).
	Template string
	// Name is "<subject>: <header name>"; Description is the header's.
	Name, Description string
	// SQL is the rendered file, header comments included.
	SQL string
}

// QuarantineTable names the Athena table over a dataset's quarantine.
func QuarantineTable(s dataset.Spec) string { return s.Name + "_quarantine" }

// QuarantineColumns are the columns of the quarantine table, all strings
// because a quarantined record is by definition not what was declared:
// the two fields the job adds, the envelope fields (API: dataset,
// received_at, data; DMS: data, metadata; nested objects read as their JSON
// text, for json_extract), `_raw` for unparsable lines, then the declared
// columns, which landing records carry at the top level. A declared column
// named like an envelope field is read through that field.
func QuarantineColumns(s dataset.Spec) []dataset.TableColumn {
	out := []dataset.TableColumn{
		{Name: "_quarantine_reason", Type: "string"}, {Name: "_quarantined_at", Type: "string"},
		{Name: "dataset", Type: "string"}, {Name: "received_at", Type: "string"},
		{Name: "data", Type: "string"}, {Name: "metadata", Type: "string"}, {Name: "_raw", Type: "string"},
	}
	seen := map[string]bool{}
	for _, c := range out {
		seen[c.Name] = true
	}
	for _, c := range s.Columns {
		if !seen[c.Name] {
			out = append(out, dataset.TableColumn{Name: c.Name, Type: "string"})
		}
	}
	return out
}

// Render renders every template for every dataset and join, in file then
// declaration order. catalogDB qualifies the processed and curated tables.
func Render(specs []dataset.Spec, joins []dataset.Join, catalogDB string) ([]Query, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Query
	for _, file := range names {
		stem := strings.TrimSuffix(path.Base(file), ".sql")
		b, err := files.ReadFile(file)
		if err != nil {
			return nil, err
		}
		t, err := template.New(file).Funcs(template.FuncMap{"join": strings.Join}).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, err
		}
		switch {
		case strings.HasPrefix(stem, "dataset_"):
			for _, s := range specs {
				s = s.WithDefaults()
				q, err := render(t, stem, s.Name, Dataset{
					Name: s.Name, Daily: catalogDB + "." + dataset.DailyTable(s), Quarantine: QuarantineTable(s),
					Processed: catalogDB + "." + s.Name, CatalogDatabase: catalogDB, Table: s.Name, GroupBy: s.GroupBy, Key: s.Key,
					EventTime: s.EventTimeField, FreshnessHours: s.FreshnessHours,
				})
				if err != nil {
					return nil, err
				}
				out = append(out, q)
			}
		case strings.HasPrefix(stem, "join_"):
			for _, j := range joins {
				cols, err := dataset.JoinColumns(j, specs)
				if err != nil {
					return nil, err
				}
				names := make([]string, len(cols))
				for i, c := range cols {
					names[i] = c.Name
				}
				q, err := render(t, stem, j.Name, Join{Join: catalogDB + "." + j.Name, On: j.On, Datasets: j.Datasets, Columns: names})
				if err != nil {
					return nil, err
				}
				out = append(out, q)
			}
		default:
			return nil, fmt.Errorf("queries: %s: name a template dataset_*.sql or join_*.sql", file)
		}
	}
	return out, nil
}

func render(t *template.Template, stem, subject string, data any) (Query, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return Query{}, fmt.Errorf("queries: %s for %s: %w", stem, subject, err)
	}
	q := Query{Subject: subject, Template: stem, SQL: strings.TrimSpace(b.String()) + "\n"}
	for _, line := range strings.Split(q.SQL, "\n") {
		if v, ok := strings.CutPrefix(line, "-- name:"); ok {
			q.Name = subject + ": " + strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(line, "-- description:"); ok {
			q.Description = strings.TrimSpace(v)
		}
	}
	if q.Name == "" || q.Description == "" {
		return Query{}, fmt.Errorf("queries: %s: the header needs `-- name:` and `-- description:` lines", stem)
	}
	return q, nil
}
