package dataset

import (
	"strings"
	"testing"
)

func TestRulesetFromDeclaration(t *testing.T) {
	specs, _ := examples(t)
	got := Ruleset(specs[1]) // orders
	want := `Rules = [
    RowCount > 0,
    IsComplete "order_id",
    IsComplete "customer_id",
    IsComplete "status",
    IsComplete "amount",
    IsComplete "currency",
    IsComplete "updated_at",
    IsPrimaryKey "order_id",
    ColumnValues "status" in ["placed", "paid", "shipped", "delivered", "cancelled", "refunded"],
    ColumnValues "amount" >= 0,
    ColumnValues "item_count" >= 1
]`
	if got != want {
		t.Errorf("ruleset:\n%s\nwant:\n%s", got, want)
	}
	if r := Ruleset(specs[0]); !strings.Contains(r, `ColumnValues "duration_ms" <= 86400000`) {
		t.Errorf("clickstream ruleset lacks the max bound:\n%s", r)
	}
}
