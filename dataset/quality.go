package dataset

import (
	"fmt"
	"strconv"
	"strings"
)

// Ruleset renders the dataset's Glue Data Quality rules in DQDL: the table
// has rows, every required column is complete, the key is a primary key
// (complete and unique, composite keys included), string enums hold only
// allowed values and numeric columns stay within their bounds (inclusive).
// The same text is the DataQualityRuleset resource and the quality job's
// --ruleset argument, so the catalog and the workflow check the same rules.
func Ruleset(s Spec) string {
	rules := []string{"RowCount > 0"}
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
			vals := make([]string, len(c.Allowed))
			for i, v := range c.Allowed {
				vals[i] = strconv.Quote(v)
			}
			rules = append(rules, fmt.Sprintf("ColumnValues %q in [%s]", c.Name, strings.Join(vals, ", ")))
		}
		if c.Min != nil {
			rules = append(rules, fmt.Sprintf("ColumnValues %q >= %s", c.Name, num(*c.Min)))
		}
		if c.Max != nil {
			rules = append(rules, fmt.Sprintf("ColumnValues %q <= %s", c.Name, num(*c.Max)))
		}
	}
	return "Rules = [\n    " + strings.Join(rules, ",\n    ") + "\n]"
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
