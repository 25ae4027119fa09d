// Package dataset is the declaration of one data source of the lake: its
// columns and types, the field that carries event time, the key that
// identifies a record, its classification and its quality rules.
//
// One declaration drives the record validator (Lambda), the Glue tables,
// the ETL job arguments, the data quality rulesets, the named queries and
// the freshness alarms. The package is plain Go (no CDK) so the Lambda can
// import it without pulling in jsii.
package dataset

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the IANA zones, independent of the host (the validator Lambda has none)
)

// Type is a column type. The names are the Glue/Athena (Hive) type names,
// so a declaration maps one to one onto a catalog column.
type Type string

// Column types a dataset may declare.
const (
	String    Type = "string"
	Bigint    Type = "bigint"
	Double    Type = "double"
	Boolean   Type = "boolean"
	Timestamp Type = "timestamp" // RFC 3339 in JSON records
	Date      Type = "date"      // YYYY-MM-DD in JSON records
)

// Types lists every allowed Type, in the order error messages show them.
var Types = []Type{String, Bigint, Double, Boolean, Timestamp, Date}

// Numeric reports whether values of the type can be summed and range-checked.
func (t Type) Numeric() bool { return t == Bigint || t == Double }

// Column is one field of a record.
type Column struct {
	Name string `json:"name"`
	Type Type   `json:"type"`
	// Required columns must be present and non-null in every record.
	// Default: false.
	Required bool `json:"required,omitempty"`
	// Allowed restricts a string column to a closed set of values.
	// Default: any value.
	Allowed []string `json:"allowed,omitempty"`
	// Min and Max bound a numeric column (inclusive). Default: unbounded.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Description ends up as the Glue column comment.
	Description string `json:"description,omitempty"`
}

// Spec is the declaration of one dataset.
type Spec struct {
	// Name is the value of the `source=` partition in the raw zone, the
	// folder in the processed and curated zones and the table name prefix.
	// Lowercase letters, digits and underscores, starting with a letter.
	Name string `json:"name"`
	// Description ends up as the Glue table description.
	Description string `json:"description,omitempty"`
	// Classification tags the dataset's tables (public, internal,
	// confidential, restricted). Default: confidential.
	Classification string `json:"classification,omitempty"`
	// EventTimeField names the timestamp or date column that decides the
	// `dt=` partition of a record.
	EventTimeField string `json:"event_time_field"`
	// Key lists the columns that identify a record; the ETL keeps the latest
	// record (by event time) per key.
	Key []string `json:"key"`
	// GroupBy lists string columns the curated daily aggregate is grouped by
	// besides the date. Default: none (one row per day).
	GroupBy []string `json:"group_by,omitempty"`
	// FreshnessHours is how long the dataset may go without a new curated
	// partition before the freshness alarm fires. Default: 26 (a daily
	// feed plus two hours of slack).
	FreshnessHours int      `json:"freshness_hours,omitempty"`
	Columns        []Column `json:"columns"`
	// Partitioning is how the processed Iceberg table is partitioned, so a
	// run's MERGE touches only the partitions of its batch:
	//   - "event_day" (default): by the event day (dt). For append-mostly
	//     data whose versions of a key share their event day (re-delivered
	//     events). A key is looked up in the days of the batch only.
	//   - "key_bucket": bucket(KeyBuckets, first key column). For mutable
	//     entities whose event time changes with every update (orders): an
	//     update stays in its bucket instead of moving to another day.
	Partitioning string `json:"partitioning,omitempty"`
	// KeyBuckets is the number of buckets of a key_bucket table, 1..1024.
	// Default: 16 (about 1 GiB of processed data per bucket at 16 GiB).
	KeyBuckets int `json:"key_buckets,omitempty"`
	// Timezone is the IANA time zone of timestamps written without an
	// offset (2024-05-01 10:00:00, as database exports in local time write
	// them). Timestamps with Z or an offset are unaffected, and every
	// timestamp is stored and partitioned in UTC. Default: UTC.
	Timezone string `json:"timezone,omitempty"`
}

// DefaultTimezone is the zone of offset-less timestamps unless a dataset
// names its own.
const DefaultTimezone = "UTC"

// Location is the dataset's Timezone (UTC when unset or unknown; Problems
// reports an unknown one).
func (s Spec) Location() *time.Location {
	if s.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Partitionings lists the allowed values of Spec.Partitioning.
var Partitionings = []string{PartitionEventDay, PartitionKeyBucket}

// The partitionings of a processed table and the key bucket limits.
const (
	PartitionEventDay  = "event_day"
	PartitionKeyBucket = "key_bucket"
	DefaultKeyBuckets  = 16
	MaxKeyBuckets      = 1024
)

// Classifications lists the allowed values of Spec.Classification.
var Classifications = []string{"public", "internal", "confidential", "restricted"}

// DefaultClassification and DefaultFreshnessHours are applied by WithDefaults.
const (
	DefaultClassification = "confidential"
	DefaultFreshnessHours = 26
)

// WithDefaults returns a copy of s with the documented defaults applied.
func (s Spec) WithDefaults() Spec {
	if s.Classification == "" {
		s.Classification = DefaultClassification
	}
	if s.FreshnessHours == 0 {
		s.FreshnessHours = DefaultFreshnessHours
	}
	if s.Partitioning == "" {
		s.Partitioning = PartitionEventDay
	}
	if s.Partitioning == PartitionKeyBucket && s.KeyBuckets == 0 {
		s.KeyBuckets = DefaultKeyBuckets
	}
	if s.Timezone == "" {
		s.Timezone = DefaultTimezone
	}
	return s
}

// Column returns the named column and whether it exists.
func (s Spec) Column(name string) (Column, bool) {
	for _, c := range s.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// NumericColumns returns the bigint and double columns, in declaration order.
func (s Spec) NumericColumns() []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Type.Numeric() {
			out = append(out, c)
		}
	}
	return out
}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ReservedWords are the Athena reserved keywords: the DDL list (Hive) and
// the DML list (Trino) of docs.aws.amazon.com/athena/latest/ug/reserved-words.html,
// lowercased. A column, table or view with one of these names must be
// quoted in every query, and the generated DDL and named queries do not
// quote, so such a name breaks them in Athena.
var ReservedWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`
all alter and array as authorization between bigint binary boolean both by case cashe cast char column
conf constraint commit create cross cube current current_date current_timestamp cursor database date
dayofweek decimal delete describe distinct div double drop else end exchange exists extended external
extract false fetch float floor following for foreign from full function grant group grouping having if
import in inner insert int integer intersect interval into is join lateral left less like local macro map
more none not null numeric of on only or order out outer over partialscan partition percent preceding
precision preserve primary procedure range reads reduce regexp references revoke right rlike rollback
rollup row rows select set smallint start table tablesample then time timestamp to transform trigger true
truncate unbounded union uniquejoin update user using utc_timestamp values varchar views when where window
with
current_catalog current_path current_role current_schema current_time current_user deallocate escape
except execute json_array json_exists json_object json_query json_table json_value listagg localtime
localtimestamp natural normalize prepare recursive skip trim uescape unnest`) {
		ReservedWords[w] = true
	}
}

// ReservedWordProblem returns why name cannot be used as an identifier in
// Athena, or "" when it can. what names the kind of name ("column name").
func ReservedWordProblem(name, what string) string {
	if !ReservedWords[strings.ToLower(name)] {
		return ""
	}
	return fmt.Sprintf("%q is an Athena (Trino/Hive) reserved word: as a %s it breaks the generated table DDL and named queries; choose another name, e.g. %q", name, what, suggestName(name))
}

func suggestName(name string) string {
	switch name {
	case "date", "timestamp", "time":
		return "event_" + name
	case "order":
		return "order_id"
	case "group", "user", "table":
		return name + "_name"
	}
	return name + "_value"
}

// Label names an element of a list in a problem's path: its name when it
// has one that identifies it, its index otherwise (e.g. columns[amount],
// columns[3]).
func Label(name string, i int) string {
	if name != "" && !strings.ContainsAny(name, "[]. ") {
		return name
	}
	return fmt.Sprint(i)
}

// Problems returns every problem of the declaration, each naming the field
// (prefixed with path, e.g. `datasets[orders]`), the bad value and what is
// allowed. An empty result means the declaration is valid. A problem of one
// field does not cause others: a column with an unknown type is not also
// checked for its allowed values or range.
func (s Spec) Problems(path string) []string {
	var p []string
	add := func(field, format string, args ...any) {
		p = append(p, fmt.Sprintf("%s.%s: "+format, append([]any{path, field}, args...)...))
	}
	if !identifier.MatchString(s.Name) {
		add("name", "%q is not a valid dataset name: use 1-64 lowercase letters, digits and underscores, starting with a letter", s.Name)
	} else if msg := ReservedWordProblem(s.Name, "dataset (table) name"); msg != "" {
		add("name", "%s", msg)
	}
	if s.Name == "dms" {
		add("name", "%q is reserved: landing/dms/ is the DMS S3 target's folder", s.Name)
	}
	if s.Classification != "" && !slices.Contains(Classifications, s.Classification) {
		add("classification", "%q is not allowed: use one of %s", s.Classification, strings.Join(Classifications, ", "))
	}
	if s.FreshnessHours < 0 || s.FreshnessHours > 24*31 {
		add("freshness_hours", "%d is out of range: use 1..744 hours (0 or absent means %d)", s.FreshnessHours, DefaultFreshnessHours)
	}
	if len(s.Columns) == 0 {
		add("columns", "is empty: declare at least the key and the event-time column")
	}
	seen := map[string]bool{}
	badType := map[string]bool{}
	for i, c := range s.Columns {
		cp := "columns[" + Label(c.Name, i) + "]"
		if seen[c.Name] {
			cp = fmt.Sprintf("columns[%d]", i)
		}
		switch {
		case c.Name == "":
			add(cp+".name", "missing: every column needs a name (1-64 lowercase letters, digits and underscores)")
		case !identifier.MatchString(c.Name):
			add(cp+".name", "%q is not a valid column name: use 1-64 lowercase letters, digits and underscores, starting with a letter", c.Name)
		case c.Name == "dt" || c.Name == "source":
			add(cp+".name", "%q is reserved for the partition columns dt and source", c.Name)
		case seen[c.Name]:
			add(cp+".name", "%q is declared twice", c.Name)
		default:
			if msg := ReservedWordProblem(c.Name, "column name"); msg != "" {
				add(cp+".name", "%s", msg)
			}
		}
		seen[c.Name] = true
		if c.Type == "" {
			add(cp+".type", "missing: use one of %s", typeList())
			badType[c.Name] = true
			continue
		}
		if !slices.Contains(Types, c.Type) {
			add(cp+".type", "%q is not a supported type: use one of %s", c.Type, typeList())
			badType[c.Name] = true
			continue
		}
		if len(c.Allowed) > 0 && c.Type != String {
			add(cp+".allowed", "is set on a %s column: allowed values apply to string columns only", c.Type)
		}
		if (c.Min != nil || c.Max != nil) && !c.Type.Numeric() {
			add(cp+".min/max", "is set on a %s column: ranges apply to bigint and double columns only", c.Type)
		}
		if c.Min != nil && c.Max != nil && *c.Min > *c.Max {
			add(cp+".min", "%v is greater than max %v", *c.Min, *c.Max)
		}
	}
	names := strings.Join(s.columnNames(), ", ")
	if s.EventTimeField == "" {
		add("event_time_field", "missing: name the required timestamp or date column that decides a record's dt= partition (declared columns: %s)", names)
	} else if et, ok := s.Column(s.EventTimeField); !ok {
		add("event_time_field", "%q is not one of the declared columns (%s)", s.EventTimeField, names)
	} else {
		if et.Type != Timestamp && et.Type != Date && !badType[et.Name] {
			add("event_time_field", "%q is a %s column: the event time must be a timestamp or date column", s.EventTimeField, et.Type)
		}
		if !et.Required {
			add("event_time_field", "%q must be a required column: every record needs an event time to be partitioned", s.EventTimeField)
		}
	}
	if len(s.Key) == 0 {
		add("key", "is empty: name the column(s) that identify a record, used for de-duplication")
	}
	for i, k := range s.Key {
		if c, ok := s.Column(k); !ok {
			add(fmt.Sprintf("key[%d]", i), "%q is not one of the declared columns (%s)", k, names)
		} else if !c.Required {
			add(fmt.Sprintf("key[%d]", i), "%q must be a required column: a key column cannot be null", k)
		}
	}
	for i, g := range s.GroupBy {
		if c, ok := s.Column(g); !ok {
			add(fmt.Sprintf("group_by[%d]", i), "%q is not one of the declared columns (%s)", g, names)
		} else if c.Type != String && !badType[c.Name] {
			add(fmt.Sprintf("group_by[%d]", i), "%q is a %s column: group by string columns only", g, c.Type)
		}
	}
	if s.Partitioning != "" && !slices.Contains(Partitionings, s.Partitioning) {
		add("partitioning", "%q is not allowed: use one of %s", s.Partitioning, strings.Join(Partitionings, ", "))
	}
	if s.KeyBuckets < 0 || s.KeyBuckets > MaxKeyBuckets {
		add("key_buckets", "%d is out of range: use 1..%d (0 or absent means %d)", s.KeyBuckets, MaxKeyBuckets, DefaultKeyBuckets)
	} else if s.KeyBuckets != 0 && s.Partitioning != PartitionKeyBucket {
		add("key_buckets", "is set but partitioning is %q: key buckets apply to partitioning %q only", s.WithDefaults().Partitioning, PartitionKeyBucket)
	}
	// time.LoadLocation also accepts "Local" and paths; a dataset names a
	// zone of the IANA database (embedded: time/tzdata).
	if tz := s.Timezone; tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
			add("timezone", "%q is not an IANA time zone name: use e.g. UTC, Europe/Berlin, America/New_York (offset-less timestamps are read in it)", tz)
		}
	}
	return p
}

func (s Spec) columnNames() []string {
	names := make([]string, 0, len(s.Columns))
	for _, c := range s.Columns {
		names = append(names, c.Name)
	}
	return names
}

// RequiredColumns returns the names of the required columns, sorted.
func (s Spec) RequiredColumns() []string {
	var out []string
	for _, c := range s.Columns {
		if c.Required {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
