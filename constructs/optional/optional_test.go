package optional

import "testing"

func TestString(t *testing.T) {
	if String("") != nil {
		t.Error(`String("") is not nil`)
	}
	if got := String("lake"); got == nil || *got != "lake" {
		t.Errorf(`String("lake") = %v`, got)
	}
}
