package dataset

import (
	"encoding/json"
	"strings"
	"testing"
)

// The sample of every declared dataset (and of an odd one) sets every
// required column to a value its rules allow, carries the id field, and
// leaves the placeholders the smoke test fills in.
func TestSampleRecordSatisfiesTheDeclaration(t *testing.T) {
	specs, _ := examples(t)
	one, ten := 1.0, 10.0
	specs = append(specs, Spec{Name: "odd", EventTimeField: "day", Key: []string{"n", "kind"}, Columns: []Column{
		{Name: "day", Type: Date, Required: true}, {Name: "n", Type: Bigint, Required: true, Min: &one, Max: &ten},
		{Name: "kind", Type: String, Required: true, Allowed: []string{"Big", "small"}}, {Name: "flag", Type: Boolean, Required: true},
	}})
	for _, s := range specs {
		var rec map[string]any
		if err := json.Unmarshal([]byte(SampleRecord(s)), &rec); err != nil {
			t.Fatal(err)
		}
		if rec[SampleIDField] != SampleID {
			t.Errorf("%s: no %s", s.Name, SampleIDField)
		}
		for _, c := range s.Columns {
			v, ok := rec[c.Name]
			if c.Required != ok {
				t.Errorf("%s.%s: required=%v, in sample=%v", s.Name, c.Name, c.Required, ok)
				continue
			}
			if !ok {
				continue
			}
			if len(c.Allowed) > 0 && v != strings.ToLower(c.Allowed[0]) {
				t.Errorf("%s.%s = %v, not an allowed value", s.Name, c.Name, v)
			}
			if f, isNum := v.(float64); isNum && ((c.Min != nil && f < *c.Min) || (c.Max != nil && f > *c.Max)) {
				t.Errorf("%s.%s = %v outside its range", s.Name, c.Name, v)
			}
			if c.Name == s.EventTimeField && !strings.HasPrefix(v.(string), SampleNow) {
				t.Errorf("%s: event time %v is not the placeholder", s.Name, v)
			}
		}
	}
}
