package dataset

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The ruleset follows each declaration: required columns are complete, the
// key is a primary key, and every value rule on an optional column accepts
// NULL (DQDL fails NULL rows on ColumnValues rules other than != and NOT IN:
// https://docs.aws.amazon.com/glue/latest/dg/dqdl-rule-types-ColumnValues.html).
func TestRulesetFromDeclaration(t *testing.T) {
	specs, _ := examples(t)
	for _, s := range specs {
		rules := rulesOf(Ruleset(s))
		has := func(r string) bool {
			for _, x := range rules {
				if x == r {
					return true
				}
			}
			return false
		}
		keys := make([]string, len(s.Key))
		for i, k := range s.Key {
			keys[i] = strconv.Quote(k)
		}
		if !has("IsPrimaryKey " + strings.Join(keys, " ")) {
			t.Errorf("%s: no primary key rule in %q", s.Name, rules)
		}
		for _, c := range s.Columns {
			if c.Required && !has(fmt.Sprintf("IsComplete %q", c.Name)) {
				t.Errorf("%s.%s: required but not IsComplete", s.Name, c.Name)
			}
			if !c.Required && has(fmt.Sprintf("IsComplete %q", c.Name)) {
				t.Errorf("%s.%s: optional but IsComplete", s.Name, c.Name)
			}
			for _, b := range []struct {
				op string
				v  *float64
			}{{">=", c.Min}, {"<=", c.Max}} {
				if b.v == nil {
					continue
				}
				plain := fmt.Sprintf("ColumnValues %q %s %s", c.Name, b.op, num(*b.v))
				want := plain
				if !c.Required {
					want = "(" + plain + ") OR (ColumnValues " + strconv.Quote(c.Name) + " = NULL)"
				}
				if !has(want) {
					t.Errorf("%s.%s: missing %s in %q", s.Name, c.Name, want, rules)
				}
			}
			if len(c.Allowed) > 0 {
				r := ""
				for _, x := range rules {
					if strings.HasPrefix(x, fmt.Sprintf("ColumnValues %q in [", c.Name)) {
						r = x
					}
				}
				if r == "" {
					t.Errorf("%s.%s: no allowed-values rule", s.Name, c.Name)
				} else if got := strings.HasSuffix(r, ", NULL]"); got == c.Required {
					t.Errorf("%s.%s: required=%v but NULL in the list is %v: %s", s.Name, c.Name, c.Required, got, r)
				}
			}
		}
	}
}

// An optional column with a bound gets a NULL-tolerant rule; the same
// column made required gets the plain rule. A declaration with mixed case
// allowed values yields lower-case values (the job stores them lower-case).
func TestRulesetNullToleranceFollowsRequired(t *testing.T) {
	zero := 0.0
	s := Spec{Name: "t", Key: []string{"id"}, Columns: []Column{
		{Name: "id", Type: String, Required: true},
		{Name: "n", Type: Bigint, Min: &zero},
		{Name: "kind", Type: String, Allowed: []string{"Big", "small"}},
	}}
	r := Ruleset(s)
	for _, want := range []string{`(ColumnValues "n" >= 0) OR (ColumnValues "n" = NULL)`, `ColumnValues "kind" in ["big", "small", NULL]`} {
		if !strings.Contains(r, want) {
			t.Errorf("ruleset lacks %s:\n%s", want, r)
		}
	}
	s.Columns[1].Required, s.Columns[2].Required = true, true
	r = Ruleset(s)
	for _, want := range []string{"ColumnValues \"n\" >= 0,", `ColumnValues "kind" in ["big", "small"]` + "\n"} {
		if !strings.Contains(r, want) {
			t.Errorf("ruleset of required columns lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "NULL") || strings.Contains(r, "RowCount") {
		t.Errorf("required columns need no NULL clause, and no RowCount rule:\n%s", r)
	}
}

// rulesOf splits a rendered ruleset into its rules.
func rulesOf(ruleset string) []string {
	body := strings.TrimSuffix(strings.TrimPrefix(ruleset, "Rules = [\n    "), "\n]")
	return strings.Split(body, ",\n    ")
}
