package dataset

import (
	"encoding/json"
	"strings"
)

// Placeholders of a SampleRecord that the pipeline's smoke test fills in
// when it sends the record (scripts/smoke-test.sh).
const (
	SampleID  = "__SMOKE_ID__"
	SampleNow = "__SMOKE_NOW__"
)

// SampleIDField is an undeclared field every sample record carries: the
// validator and the API models accept undeclared fields, so the smoke
// test can find its record in the raw zone whatever the declaration.
const SampleIDField = "smoke_test_id"

// SampleRecord is a record valid for the declaration, as JSON: every
// required column set (string keys to SampleID so each send is a new
// key, the event time to SampleNow, allowed columns to their first value,
// numbers to their minimum or 0, booleans false), optional columns left
// out. A date event time takes the day part of SampleNow.
func SampleRecord(s Spec) string {
	rec := map[string]any{SampleIDField: SampleID}
	for _, c := range s.Columns {
		if !c.Required {
			continue
		}
		switch {
		case c.Name == s.EventTimeField && c.Type == Timestamp:
			rec[c.Name] = SampleNow
		case c.Name == s.EventTimeField:
			rec[c.Name] = SampleNow + ":date"
		case len(c.Allowed) > 0:
			rec[c.Name] = strings.ToLower(c.Allowed[0])
		case c.Type == String:
			rec[c.Name] = SampleID
		case c.Type.Numeric():
			v := 0.0
			if c.Min != nil {
				v = *c.Min
			} else if c.Max != nil && *c.Max < 0 {
				v = *c.Max
			}
			if c.Type == Bigint {
				rec[c.Name] = int64(v)
			} else {
				rec[c.Name] = v
			}
		case c.Type == Boolean:
			rec[c.Name] = false
		case c.Type == Timestamp:
			rec[c.Name] = SampleNow
		case c.Type == Date:
			rec[c.Name] = SampleNow + ":date"
		}
	}
	b, _ := json.Marshal(rec) // plain values always encode
	return string(b)
}
