package main

// The record validator: checks one Kinesis record against the dataset
// declarations and decides its raw-zone partition.

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/example/datalake/dataset"
)

// Reason is the stable, snake_case code of why a record was rejected. It is
// logged with every rejected record and counted in the metrics line, so
// dashboards and alarms may key on it: never rename one.
type Reason string

// Reason codes, in the order Check tests them.
const (
	// ReasonTooLarge: the record is larger than Limits.MaxRecordBytes.
	ReasonTooLarge Reason = "too_large"
	// ReasonNotJSON: not valid JSON (RFC 8259, UTF-8), or not an object.
	ReasonNotJSON Reason = "not_json"
	// ReasonDuplicateField: the envelope keys dataset, data or metadata, or
	// a declared column, appear more than once. JSON readers disagree on
	// which duplicate wins, so the record's meaning is ambiguous.
	ReasonDuplicateField Reason = "duplicate_field"
	// ReasonDMSControlRecord: an AWS DMS control record
	// (metadata.record-type "control", e.g. create-table). See Check.
	ReasonDMSControlRecord Reason = "dms_control_record"
	// ReasonMissingDataset: neither dataset nor metadata.table-name is a
	// non-empty string.
	ReasonMissingDataset Reason = "missing_dataset"
	// ReasonUnknownDataset: the dataset is not declared.
	ReasonUnknownDataset Reason = "unknown_dataset"
	// ReasonMissingData: data is absent or not an object.
	ReasonMissingData Reason = "missing_data"
	// ReasonWrongType: a value has the wrong JSON type for its column (or
	// the envelope's received_at is not an integer).
	ReasonWrongType Reason = "wrong_type"
	// ReasonNotAllowed: a string value is not in the column's Allowed list.
	ReasonNotAllowed Reason = "not_allowed"
	// ReasonOutOfRange: a number is outside the column's Min/Max.
	ReasonOutOfRange Reason = "out_of_range"
	// ReasonBadEventTime: the event-time field is a string that does not
	// parse (RFC 3339 for timestamp, YYYY-MM-DD for date columns).
	ReasonBadEventTime Reason = "bad_event_time"
	// ReasonMissingField: a required column is absent or null.
	ReasonMissingField Reason = "missing_field"
	// ReasonFutureEventTime: the event time is more than
	// Limits.MaxFutureSkew after the record's arrival.
	ReasonFutureEventTime Reason = "future_event_time"
	// ReasonStaleEventTime: the event time is more than Limits.MaxEventAge
	// before the record's arrival.
	ReasonStaleEventTime Reason = "stale_event_time"
)

// Reasons lists every reason code, in the order Check tests them.
var Reasons = []Reason{
	ReasonTooLarge, ReasonNotJSON, ReasonDuplicateField, ReasonDMSControlRecord,
	ReasonMissingDataset, ReasonUnknownDataset, ReasonMissingData,
	ReasonWrongType, ReasonNotAllowed, ReasonOutOfRange, ReasonBadEventTime,
	ReasonMissingField, ReasonFutureEventTime, ReasonStaleEventTime,
}

// Limits are the record-level limits besides the dataset declarations.
type Limits struct {
	// MaxRecordBytes is the largest accepted record. Default: 1,024,000
	// bytes, the Firehose record limit (1,000 KiB).
	MaxRecordBytes int
	// MaxFutureSkew is how far the event time may be after the arrival
	// time (client clocks run fast). Default: 15 minutes.
	MaxFutureSkew time.Duration
	// MaxEventAge is how far the event time may be before the arrival time.
	// Default: 3650 days.
	MaxEventAge time.Duration
}

// DefaultLimits returns the limits used when no environment variable
// overrides them.
func DefaultLimits() Limits {
	return Limits{
		MaxRecordBytes: 1_024_000,
		MaxFutureSkew:  15 * time.Minute,
		MaxEventAge:    3650 * 24 * time.Hour,
	}
}

// Partition is where a valid record goes in the raw zone:
// source=<Source>/dt=<DT>/.
type Partition struct {
	Source string // the dataset name
	DT     string // the event time's UTC date, YYYY-MM-DD
}

// Keys returns the partition as Firehose dynamic-partitioning keys, read by
// the S3 prefix source=!{partitionKeyFromLambda:source}/dt=!{partitionKeyFromLambda:dt}/.
func (p Partition) Keys() map[string]string {
	return map[string]string{"source": p.Source, "dt": p.DT}
}

// Result is the verdict on one record.
type Result struct {
	// Dataset is the dataset the record names, as far as it could be read
	// (possibly an undeclared name; empty if none).
	Dataset string
	// Partition is set for valid records.
	Partition Partition
	// Reason is empty for a valid record.
	Reason Reason
	// Detail explains the rejection for a human: the field, the value and
	// what is allowed.
	Detail string
}

// Valid reports whether the record was accepted.
func (r Result) Valid() bool { return r.Reason == "" }

// Validator checks records against a fixed set of dataset declarations.
// It is immutable after NewValidator and safe for concurrent use.
type Validator struct {
	limits   Limits
	datasets map[string]*schema
	known    string // declared dataset names, sorted, for messages
}

// schema is a dataset declaration prepared for checking records.
type schema struct {
	name      string
	cols      []column
	index     map[string]int // column name -> position in cols
	eventCol  int
	eventDate bool // the event-time column is a date, not a timestamp
	// loc reads timestamps written without an offset (the dataset's timezone).
	loc *time.Location
}

type column struct {
	name     string
	typ      dataset.Type
	required bool
	allowed  []string
	min, max float64
	hasMin   bool
	hasMax   bool
}

// NewValidator prepares the declarations for checking. It rejects invalid
// declarations (dataset.Spec.Problems), duplicate dataset names and
// unusable limits, so a bad deployment fails at init rather than accepting
// records it cannot check.
func NewValidator(specs []dataset.Spec, limits Limits) (*Validator, error) {
	var problems []string
	if len(specs) == 0 {
		problems = append(problems, "no datasets declared: declare at least one")
	}
	if limits.MaxRecordBytes <= 0 {
		problems = append(problems, fmt.Sprintf("MaxRecordBytes %d must be positive", limits.MaxRecordBytes))
	}
	if limits.MaxFutureSkew < 0 {
		problems = append(problems, fmt.Sprintf("MaxFutureSkew %v must not be negative", limits.MaxFutureSkew))
	}
	if limits.MaxEventAge <= 0 {
		problems = append(problems, fmt.Sprintf("MaxEventAge %v must be positive", limits.MaxEventAge))
	}
	v := &Validator{limits: limits, datasets: make(map[string]*schema, len(specs))}
	names := make([]string, 0, len(specs))
	for i, sp := range specs {
		path := fmt.Sprintf("datasets[%d]", i)
		if p := sp.Problems(path); len(p) > 0 {
			problems = append(problems, p...)
			continue
		}
		if _, dup := v.datasets[sp.Name]; dup {
			problems = append(problems, fmt.Sprintf("%s.name: %q is declared twice", path, sp.Name))
			continue
		}
		v.datasets[sp.Name] = compile(sp)
		names = append(names, sp.Name)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	slices.Sort(names)
	v.known = strings.Join(names, ", ")
	return v, nil
}

func compile(sp dataset.Spec) *schema {
	sc := &schema{name: sp.Name, index: make(map[string]int, len(sp.Columns)), loc: sp.Location()}
	for i, c := range sp.Columns {
		col := column{name: c.Name, typ: c.Type, required: c.Required, allowed: slices.Clone(c.Allowed)}
		if c.Min != nil {
			col.min, col.hasMin = *c.Min, true
		}
		if c.Max != nil {
			col.max, col.hasMax = *c.Max, true
		}
		sc.cols = append(sc.cols, col)
		sc.index[c.Name] = i
		if c.Name == sp.EventTimeField {
			sc.eventCol = i
			sc.eventDate = c.Type == dataset.Date
		}
	}
	return sc
}

// Check validates one record (the raw bytes of a Kinesis record) that
// arrived at arrival, and returns the first problem found or, for a valid
// record, its partition.
//
// Checks run in the order of Reasons: size, JSON syntax of the whole record
// (so a syntax error anywhere wins over everything else), the envelope,
// then the fields of data in document order, then required fields in
// declaration order, then the event time against the arrival time.
//
// Unknown fields in data are accepted without a look beyond their syntax:
// producers may add a column before the declaration catches up (schema
// evolution), and the raw zone keeps everything. Declared but optional
// columns may be absent or null.
//
// DMS control records (metadata.record-type "control": create-table,
// drop-table, ...) carry no row. They are not dropped, since nothing is
// dropped silently, nor accepted, since they are not data: they are
// rejected with dms_control_record so they land under the error prefix
// where they can be inspected.
func (v *Validator) Check(raw []byte, arrival time.Time) Result {
	if len(raw) > v.limits.MaxRecordBytes {
		return Result{Reason: ReasonTooLarge, Detail: fmt.Sprintf(
			"record is %d bytes, more than the %d allowed (MAX_RECORD_BYTES)", len(raw), v.limits.MaxRecordBytes)}
	}
	c := checker{v: v, s: scanner{data: raw}}
	return c.run(arrival)
}

// checker holds the state of one Check call. It lives on the stack.
type checker struct {
	v *Validator
	s scanner

	// envelope
	seenDataset, seenData, seenMeta bool
	dup                             string // first duplicated envelope key
	datasetRaw                      []byte // value of "dataset", unescaped
	datasetProblem                  string // why "dataset" is unusable
	tableName                       []byte // metadata.table-name, unescaped
	recordType                      []byte // metadata.record-type
	operation                       []byte // metadata.operation
	dataKind                        byte   // first byte of data's value; 0 if absent
	dataStart, dataEnd              int    // span of data's value
	dataChecked                     bool   // data was checked while reading the envelope
	envFail                         Reason // problem with another envelope field
	envDetail                       string

	// data
	sc *schema
	// Per column: absent, null or set. A fixed array for the usual
	// declaration, a slice for wider ones; a slice of the array stored in
	// the checker itself would make the checker escape to the heap.
	stateSmall [32]uint8
	stateBig   []uint8
	fail       Reason // first problem in data, in document order
	detail     string
	eventTime  time.Time
}

const (
	absent uint8 = iota
	null
	set
)

func (c *checker) run(arrival time.Time) Result {
	s := &c.s
	if s.atEnd() {
		return Result{Reason: ReasonNotJSON, Detail: "record is empty"}
	}
	if first := s.peek(); first != '{' {
		if err := s.skip(1); err != nil {
			return Result{Reason: ReasonNotJSON, Detail: err.Error()}
		}
		return Result{Reason: ReasonNotJSON, Detail: "record is a JSON " + kindOf(first) + ", not an object"}
	}
	err := c.object(s, 1, readEnvelope)
	if err == nil && !s.atEnd() {
		err = s.errorf("unexpected %s after the top-level object", describeByte(s.data[s.pos]))
	}
	if err != nil {
		return Result{Dataset: c.datasetLabel(), Reason: ReasonNotJSON, Detail: err.Error()}
	}
	if c.dup != "" {
		return c.reject(ReasonDuplicateField, fmt.Sprintf("envelope key %q appears more than once", c.dup))
	}
	if string(c.recordType) == "control" {
		return c.reject(ReasonDMSControlRecord, fmt.Sprintf(
			"DMS control record (operation %s, table %s): not data", quoteTrunc(c.operation), quoteTrunc(c.tableName)))
	}
	// The dataset: "dataset" wins; metadata.table-name (DMS) only counts
	// when "dataset" is absent.
	var name []byte
	switch {
	case c.seenDataset && c.datasetProblem != "":
		return c.reject(ReasonMissingDataset, c.datasetProblem)
	case c.seenDataset:
		name = c.datasetRaw
	case len(c.tableName) > 0:
		name = c.tableName
	default:
		return c.reject(ReasonMissingDataset, `record has neither "dataset" nor "metadata"."table-name" as a non-empty string`)
	}
	sc := c.v.datasets[string(name)]
	if sc == nil {
		return c.reject(ReasonUnknownDataset, fmt.Sprintf("dataset %s is not declared: known datasets are %s", quoteTrunc(name), c.v.known))
	}
	if c.dataKind != '{' {
		if c.dataKind == 0 {
			return c.reject(ReasonMissingData, `record has no "data" object`)
		}
		return c.reject(ReasonMissingData, `"data" is `+aKind(c.dataKind)+", not an object")
	}
	if c.envFail != "" {
		return c.reject(c.envFail, c.envDetail)
	}
	if !c.dataChecked {
		// "data" came before "dataset" (always so for DMS records): check
		// it now. Its syntax was validated with the envelope.
		c.begin(sc)
		ds := scanner{data: s.data[:c.dataEnd], pos: c.dataStart}
		if err := c.object(&ds, 2, readData); err != nil {
			return c.reject(ReasonNotJSON, err.Error()) // unreachable: syntax already checked
		}
	}
	if c.fail != "" {
		return c.reject(c.fail, c.detail)
	}
	for i := range sc.cols {
		if col := &sc.cols[i]; col.required && c.state(i) != set {
			if c.state(i) == null {
				return c.reject(ReasonMissingField, fmt.Sprintf("required field %q is null", col.name))
			}
			return c.reject(ReasonMissingField, fmt.Sprintf("required field %q is missing", col.name))
		}
	}
	if c.state(sc.eventCol) != set {
		// Unreachable: Spec.Problems makes the event-time column required.
		return c.reject(ReasonMissingField, fmt.Sprintf("event-time field %q is missing", sc.cols[sc.eventCol].name))
	}
	et := c.eventTime
	if latest := arrival.Add(c.v.limits.MaxFutureSkew); et.After(latest) {
		return c.reject(ReasonFutureEventTime, fmt.Sprintf(
			"event time %s in field %q is %s after arrival %s (MAX_FUTURE_SKEW %s)",
			et.UTC().Format(time.RFC3339Nano), sc.cols[sc.eventCol].name, et.Sub(arrival).Round(time.Second),
			arrival.UTC().Format(time.RFC3339Nano), c.v.limits.MaxFutureSkew))
	}
	if earliest := arrival.Add(-c.v.limits.MaxEventAge); et.Before(earliest) {
		return c.reject(ReasonStaleEventTime, fmt.Sprintf(
			"event time %s in field %q is more than %d days before arrival %s (MAX_EVENT_AGE_DAYS)",
			et.UTC().Format(time.RFC3339Nano), sc.cols[sc.eventCol].name, int(c.v.limits.MaxEventAge/(24*time.Hour)),
			arrival.UTC().Format(time.RFC3339Nano)))
	}
	return Result{Dataset: sc.name, Partition: Partition{Source: sc.name, DT: formatDate(et)}}
}

// reject builds a rejection naming the dataset as far as it is known.
func (c *checker) reject(r Reason, detail string) Result {
	return Result{Dataset: c.datasetLabel(), Reason: r, Detail: detail}
}

// datasetLabel names the dataset for a log line: the declared name if
// known, else the record's own (possibly undeclared) name, truncated.
func (c *checker) datasetLabel() string {
	if c.sc != nil {
		return c.sc.name
	}
	name := c.datasetRaw
	if !c.seenDataset {
		name = c.tableName
	}
	if sc := c.v.datasets[string(name)]; sc != nil {
		return sc.name
	}
	if len(name) > 100 {
		name = name[:100]
	}
	return strings.ToValidUTF8(string(name), "\uFFFD")
}

// begin prepares the per-column state for checking data against sc.
func (c *checker) begin(sc *schema) {
	c.sc = sc
	if len(sc.cols) > len(c.stateSmall) {
		c.stateBig = make([]uint8, len(sc.cols))
	}
}

// state returns the state (absent, null or set) of column i.
func (c *checker) state(i int) uint8 {
	if c.stateBig != nil {
		return c.stateBig[i]
	}
	return c.stateSmall[i]
}

func (c *checker) setState(i int, st uint8) {
	if c.stateBig != nil {
		c.stateBig[i] = st
	} else {
		c.stateSmall[i] = st
	}
}

// Which members object hands an object's members to.
const (
	readEnvelope = iota // the top-level object: envelopeMember
	readMetadata        // DMS metadata: metaMember
	readData            // data: dataMember
)

// object reads the object at s.pos (which must be '{') and hands each
// member to the reader chosen by what. depth is the nesting depth of this
// object; its members' values are at depth+1. The scanner is positioned at
// the value when the member reader is called.
//
// A switch rather than a func or interface value: the compiler can then
// see that neither the checker nor the scanner escapes, and Check does not
// allocate on the happy path.
func (c *checker) object(s *scanner, depth int, what int) error {
	if depth > maxDepth {
		return s.errorf("nesting deeper than %d levels", maxDepth)
	}
	s.pos++ // '{'
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.expected("string (object key)")
		}
		ks, ke, esc, err := s.str()
		if err != nil {
			return err
		}
		if s.peek() != ':' {
			return s.expected("':' after object key")
		}
		s.pos++
		s.skipWS()
		key := s.data[ks:ke]
		if esc {
			key = unescape(key)
		}
		switch what {
		case readEnvelope:
			err = c.envelopeMember(s, key, depth+1)
		case readMetadata:
			err = c.metaMember(s, key, depth+1)
		default:
			err = c.dataMember(s, key, depth+1)
		}
		if err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.expected("',' or '}' in object")
		}
	}
}

// envelopeMember reads one member of the top-level object.
func (c *checker) envelopeMember(s *scanner, key []byte, depth int) error {
	switch string(key) {
	case "dataset":
		if c.seenDataset && c.dup == "" {
			c.dup = "dataset"
		}
		c.seenDataset = true
		first := s.peek()
		if first != '"' {
			c.datasetProblem = `"dataset" is ` + aKind(first) + ", not a string"
			return s.skip(depth)
		}
		st, en, esc, err := s.str()
		if err != nil {
			return err
		}
		c.datasetRaw = s.data[st:en]
		if esc {
			c.datasetRaw = unescape(c.datasetRaw)
		}
		if len(c.datasetRaw) == 0 {
			c.datasetProblem = `"dataset" is an empty string`
		}
	case "data":
		if c.seenData && c.dup == "" {
			c.dup = "data"
		}
		c.seenData = true
		c.dataKind = s.peek()
		c.dataStart = s.pos
		// Fast path (API envelope, "dataset" first): check data in the same
		// pass as its syntax instead of reading it twice.
		if c.dataKind == '{' && c.datasetProblem == "" && !c.dataChecked && c.datasetRaw != nil {
			if sc := c.v.datasets[string(c.datasetRaw)]; sc != nil {
				c.begin(sc)
				c.dataChecked = true
				err := c.object(s, depth, readData)
				c.dataEnd = s.pos
				return err
			}
		}
		err := s.skip(depth)
		c.dataEnd = s.pos
		return err
	case "metadata":
		if c.seenMeta && c.dup == "" {
			c.dup = "metadata"
		}
		c.seenMeta = true
		if s.peek() != '{' {
			return s.skip(depth) // not DMS metadata: ignore
		}
		return c.object(s, depth, readMetadata)
	case "received_at":
		// Optional arrival time at the ingestion API, epoch milliseconds.
		// Not used here, but downstream jobs read it as a bigint.
		first := s.peek()
		if first == 'n' {
			return s.lit("null")
		}
		if first != '-' && !isDigit(first) {
			if c.envFail == "" {
				c.envFail, c.envDetail = ReasonWrongType, `envelope field "received_at": expected epoch milliseconds (integer), got `+kindOf(first)
			}
			return s.skip(depth)
		}
		st, en, isInt, err := s.num()
		if err != nil {
			return err
		}
		if _, ok := parseInt64(s.data[st:en]); (!isInt || !ok) && c.envFail == "" {
			c.envFail, c.envDetail = ReasonWrongType, `envelope field "received_at": expected epoch milliseconds (integer), got `+quoteTrunc(s.data[st:en])
		}
	default:
		return s.skip(depth)
	}
	return nil
}

// metaMember reads one member of the DMS metadata object.
func (c *checker) metaMember(s *scanner, key []byte, depth int) error {
	var dst *[]byte
	switch string(key) {
	case "table-name":
		dst = &c.tableName
	case "record-type":
		dst = &c.recordType
	case "operation":
		dst = &c.operation
	default:
		return s.skip(depth)
	}
	if s.peek() != '"' {
		return s.skip(depth) // not a string: as if absent
	}
	st, en, esc, err := s.str()
	if err != nil {
		return err
	}
	*dst = s.data[st:en]
	if esc {
		*dst = unescape(*dst)
	}
	return nil
}

// dataMember reads one member of data, checking it if it is a declared
// column.
func (c *checker) dataMember(s *scanner, key []byte, depth int) error {
	if c.fail != "" {
		return s.skip(depth) // already rejected: only the syntax matters now
	}
	i, ok := c.sc.index[string(key)]
	if !ok {
		return s.skip(depth) // unknown field: allowed (schema evolution)
	}
	col := &c.sc.cols[i]
	if c.state(i) != absent {
		c.failf(ReasonDuplicateField, "field %q appears more than once", col.name)
		return s.skip(depth)
	}
	first := s.peek()
	if first == 'n' {
		c.setState(i, null)
		return s.lit("null")
	}
	c.setState(i, set)
	switch col.typ {
	case dataset.String:
		if first != '"' {
			break
		}
		st, en, esc, err := s.str()
		if err != nil || len(col.allowed) == 0 {
			return err
		}
		val := s.data[st:en]
		if esc {
			val = unescape(val)
		}
		for _, a := range col.allowed {
			if string(val) == a {
				return nil
			}
		}
		c.failf(ReasonNotAllowed, "field %q: %s is not allowed: use one of %s",
			col.name, quoteTrunc(val), strings.Join(col.allowed, ", "))
		return nil

	case dataset.Bigint, dataset.Double:
		if first != '-' && !isDigit(first) {
			break
		}
		st, en, isInt, err := s.num()
		if err != nil {
			return err
		}
		lit := s.data[st:en]
		var f float64
		if col.typ == dataset.Bigint {
			if !isInt {
				c.failf(ReasonWrongType, "field %q: expected bigint (integer JSON number within int64), got non-integer number %s", col.name, lit)
				return nil
			}
			n, ok := parseInt64(lit)
			if !ok {
				c.failf(ReasonWrongType, "field %q: expected bigint (integer JSON number within int64), got %s which is outside the int64 range", col.name, lit)
				return nil
			}
			f = float64(n)
		} else {
			var ok bool
			if f, ok = parseFloat(lit); !ok {
				c.failf(ReasonWrongType, "field %q: expected double, got %s which is outside the double range", col.name, lit)
				return nil
			}
		}
		if (col.hasMin && f < col.min) || (col.hasMax && f > col.max) {
			c.failf(ReasonOutOfRange, "field %q: %s is out of range: %s", col.name, lit, col.rangeText())
		}
		return nil

	case dataset.Boolean:
		if first == 't' {
			return s.lit("true")
		}
		if first == 'f' {
			return s.lit("false")
		}

	case dataset.Timestamp, dataset.Date:
		if first != '"' {
			break
		}
		st, en, esc, err := s.str()
		if err != nil {
			return err
		}
		val := s.data[st:en]
		if esc {
			val = unescape(val)
		}
		var t time.Time
		if col.typ == dataset.Timestamp {
			t, ok = parseTimestamp(val, c.sc.loc)
		} else {
			var y, d int
			var m time.Month
			y, m, d, ok = parseDate(val)
			t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		}
		switch {
		case ok && i == c.sc.eventCol:
			c.eventTime = t
		case ok:
		case i == c.sc.eventCol:
			c.failf(ReasonBadEventTime, "event-time field %q: %s is not %s", col.name, quoteTrunc(val), col.format())
		default:
			c.failf(ReasonWrongType, "field %q: expected %s, got string %s", col.name, col.format(), quoteTrunc(val))
		}
		return nil
	}
	// The JSON kind does not fit the column. Name the kind, not the value:
	// a value in the wrong column may be anything, including personal data.
	c.failf(ReasonWrongType, "field %q: expected %s, got %s", col.name, col.expect(), kindOf(first))
	return s.skip(depth)
}

func (c *checker) failf(r Reason, format string, args ...any) {
	if c.fail == "" {
		c.fail, c.detail = r, fmt.Sprintf(format, args...)
	}
}

// expect describes the JSON a column takes, for wrong_type messages.
func (col *column) expect() string {
	switch col.typ {
	case dataset.String:
		return "string"
	case dataset.Bigint:
		return "bigint (integer JSON number within int64)"
	case dataset.Double:
		return "double (JSON number)"
	case dataset.Boolean:
		return "boolean (true or false)"
	}
	return col.format()
}

// format describes the string format of a timestamp or date column.
func (col *column) format() string {
	if col.typ == dataset.Date {
		return "a date string YYYY-MM-DD"
	}
	return "an RFC 3339 timestamp string (e.g. 2025-11-25T19:46:40.123Z)"
}

func (col *column) rangeText() string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	switch {
	case col.hasMin && col.hasMax:
		return "must be between " + f(col.min) + " and " + f(col.max)
	case col.hasMin:
		return "must be at least " + f(col.min)
	default:
		return "must be at most " + f(col.max)
	}
}
