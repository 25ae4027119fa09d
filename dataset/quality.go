package dataset

import (
	"fmt"
	"strconv"
	"strings"
)

// Ruleset renders the dataset's Glue Data Quality rules in DQDL: every
// required column is complete, the key is a primary key (complete and
// unique, composite keys included), string enums hold only allowed values
// and numeric columns stay within their bounds (inclusive).
//
// Optional columns may be null: DQDL fails NULL rows on every ColumnValues
// rule except != and NOT IN ("Null behavior",
// https://docs.aws.amazon.com/glue/latest/dg/dqdl-rule-types-ColumnValues.html),
// so their range rules are `(rule) OR (ColumnValues "c" = NULL)` and their
// allowed lists include NULL. Allowed values are lower-case, as the
// raw->processed job stores them (glue/lakelib/normalize.py).
//
// There is no `RowCount > 0`: a window without rows (no new data, or only
// deletes) is not a quality failure; the dataset's freshness alarm reports
// a feed that stopped.
//
// The same text is the DataQualityRuleset resource and the quality job's
// --ruleset argument, so the catalog and the workflow check the same rules.
func Ruleset(s Spec) string {
	var rules []string
	for _, c := range s.Columns {
		if c.Required {
			rules = append(rules, fmt.Sprintf("IsComplete %q", c.Name))
		}
	}
	keys := make([]string, len(s.Key))
	for i, k := range s.Key {
		keys[i] = strconv.Quote(k)
	}
	rules = append(rules, "IsPrimaryKey "+strings.Join(keys, " "))
	for _, c := range s.Columns {
		if len(c.Allowed) > 0 {
			vals := make([]string, 0, len(c.Allowed)+1)
			for _, v := range c.Allowed {
				vals = append(vals, strconv.Quote(strings.ToLower(v)))
			}
			if !c.Required {
				vals = append(vals, "NULL")
			}
			rules = append(rules, fmt.Sprintf("ColumnValues %q in [%s]", c.Name, strings.Join(vals, ", ")))
		}
		if c.Min != nil {
			rules = append(rules, valueRule(c, ">=", *c.Min))
		}
		if c.Max != nil {
			rules = append(rules, valueRule(c, "<=", *c.Max))
		}
	}
	return "Rules = [\n    " + strings.Join(rules, ",\n    ") + "\n]"
}

// valueRule is one bound of a numeric column, NULL-tolerant when the
// column is optional.
func valueRule(c Column, op string, bound float64) string {
	rule := fmt.Sprintf("ColumnValues %q %s %s", c.Name, op, num(bound))
	if c.Required {
		return rule
	}
	return fmt.Sprintf("(%s) OR (ColumnValues %q = NULL)", rule, c.Name)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
