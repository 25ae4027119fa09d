package main

import (
	"encoding/json"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// scanValid reports whether the scanner accepts b as one JSON value.
func scanValid(b []byte) bool {
	s := scanner{data: b}
	if s.skip(1) != nil {
		return false
	}
	return s.atEnd()
}

var jsonSamples = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `true`, `false`, `null`, ` {"a" : [1, 2.0, {"b": null}], "c": "\u00e9\n"} `,
	`{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `tru`, `nul`, `"abc`, `"\q"`, `"\u12"`, `"\u12G4"`,
	"\"a\x01\"", `{"a" 1}`, `{1:2}`, `[1 2]`, `{"a":1}}`, `"\ud800"`, `"\/"`, `[[[[]]]]`, "\t\n\r 1 \t", ``, ` `,
	"\"\xc3\xa9\"", "\"\xe2\x98\x95\"", "\"\xf0\x9f\x98\x80\"", `1E400`, `-12345678901234567890`,
	"0\x00", "{}\x00", "\x00", "[\x00]", "{\"a\":1\x00}",
	`{"dataset":"clickstream","data":{"event_id":"e","event_time":"2025-11-25T19:00:00Z"}}`,
}

// TestScannerMatchesJSONValid checks the scanner against json.Valid.
func TestScannerMatchesJSONValid(t *testing.T) {
	for _, s := range jsonSamples {
		if got, want := scanValid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("%q: scanner %v, json.Valid %v", s, got, want)
		}
	}
	// The one deliberate difference: invalid UTF-8 in strings.
	if b := []byte("\"\xff\""); scanValid(b) || !json.Valid(b) {
		t.Errorf("invalid UTF-8: scanner %v, json.Valid %v", scanValid(b), json.Valid(b))
	}
}

// FuzzScanner: the scanner agrees with json.Valid on valid UTF-8, and
// Check never panics. Run with go test -fuzz FuzzScanner.
func FuzzScanner(f *testing.F) {
	for _, s := range jsonSamples {
		f.Add([]byte(s))
	}
	for _, c := range fixtureCases {
		f.Add([]byte(c.record))
	}
	v, err := NewValidator(testSpecs(&testing.T{}), DefaultLimits())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v.Check(b, time.UnixMilli(kinesisArrivalMs))
		if !utf8.Valid(b) {
			return
		}
		if got, want := scanValid(b), json.Valid(b); got != want {
			t.Errorf("%q: scanner %v, json.Valid %v", b, got, want)
		}
	})
}

// Every RFC 3339 date-time time.Parse reads, the validator reads to the same
// instant (RFC 3339 is the main case of the grammar; the whole grammar is
// TestTimestampGrammarSharedWithTheJobs).
func TestParseRFC3339MatchesTimeParse(t *testing.T) {
	for _, s := range []string{
		"2025-11-25T19:46:40Z", "2025-11-25T19:46:40.1Z", "2025-11-25T19:46:40.123456789Z", "2025-11-25T19:46:40.1234567891Z",
		"2025-11-25T19:46:40+02:00", "2025-11-25T19:46:40-23:59", "2025-11-25T00:30:00.5+05:30", "2024-02-29T12:00:00Z",
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "2000-01-01T00:00:00+00:00",
	} {
		got, ok := parseRFC3339([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !ok || !got.Equal(want) {
			t.Errorf("%q: got %v %v, time.Parse %v %v", s, got, ok, want, err)
		}
	}
	// RFC 3339 offsets have hours 00-23; time.Parse also takes 24.
	if _, ok := parseRFC3339([]byte("2025-11-25T19:46:40+24:00")); ok {
		t.Error("offset +24:00 accepted")
	}
}

// The validator and the Glue jobs read timestamps with one grammar: a
// record the API accepts is never quarantined by the job for its
// timestamp, and a landing file's value the job reads would pass the API.
// glue/tests/test_schema.py runs the Python parser over the same cases.
func TestTimestampGrammarSharedWithTheJobs(t *testing.T) {
	b, err := os.ReadFile("../../dataset/testdata/timestamps.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Text string
			Zone string
			Want *string
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range f.Cases {
		loc := time.UTC
		if c.Zone != "" {
			if loc, err = time.LoadLocation(c.Zone); err != nil {
				t.Fatalf("%q: zone %q: %v", c.Text, c.Zone, err)
			}
		}
		got, ok := parseTimestamp([]byte(c.Text), loc)
		switch {
		case c.Want == nil && ok:
			t.Errorf("%q (zone %q): accepted as %v, want refused", c.Text, c.Zone, got)
		case c.Want != nil && !ok:
			t.Errorf("%q (zone %q): refused, want %s", c.Text, c.Zone, *c.Want)
		case c.Want != nil:
			want, err := time.Parse("2006-01-02T15:04:05.000000Z", *c.Want)
			if err != nil {
				t.Fatalf("case %q: want %q: %v", c.Text, *c.Want, err)
			}
			// The jobs keep microseconds; compare there.
			if got := got.UTC().Truncate(time.Microsecond); !got.Equal(want) {
				t.Errorf("%q (zone %q): %v, want %v", c.Text, c.Zone, got, want)
			}
		}
	}
}

func TestFormatDate(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 11, 24, 22, 30, 0, 0, time.UTC), "2025-11-24"},
		{time.Date(2025, 11, 25, 1, 30, 0, 0, time.FixedZone("+3", 3*3600)), "2025-11-24"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01"},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "9999-12-31"},
	} {
		if got := formatDate(c.t); got != c.want || got != c.t.UTC().Format(time.DateOnly) {
			t.Errorf("formatDate(%v) = %s, want %s", c.t, got, c.want)
		}
	}
}

func TestParseNumbers(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-7", "9223372036854775807", "-9223372036854775808",
		"9223372036854775808", "-9223372036854775809", "99999999999999999999", "000"} {
		got, ok := parseInt64([]byte(s))
		want, err := strconv.ParseInt(s, 10, 64)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("parseInt64(%s) = %d %v, strconv %d %v", s, got, ok, want, err)
		}
	}
	floats := []string{"0", "-0", "0.1", "0.3", "129.99", "-0.01", "1000.0000001", "123456789012345", "1234567890123456",
		"0.000000000000001", "0.0000000000000000000001", "1e3", "1.5E+2", "-2.5e-3", "1e308", "1e400", "-1e400", "4.9e-324",
		"1e-400", "3.141592653589793", "86400000", "179769313486231570000000000000000000000000000000000000000000000000000000000000000" +
			"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" +
			"0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"}
	for _, s := range floats {
		got, ok := parseFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if ok != (err == nil) || (ok && math.Float64bits(got) != math.Float64bits(want)) {
			t.Errorf("parseFloat(%s) = %v %v, strconv %v %v", s, got, ok, want, err)
		}
	}
	// Exhaustive-ish over the fast path: short decimals with up to 15 digits.
	for i := 0; i < 200000; i++ {
		s := strconv.FormatInt(int64(i)*7919%1000000007, 10)
		for _, frac := range []int{0, 1, 2, 5, 9} {
			lit := s
			if frac > 0 && frac < len(s) {
				lit = s[:len(s)-frac] + "." + s[len(s)-frac:]
			}
			got, _ := parseFloat([]byte(lit))
			if want, _ := strconv.ParseFloat(lit, 64); got != want {
				t.Fatalf("parseFloat(%s) = %v, strconv %v", lit, got, want)
			}
		}
	}
}

func TestQuoteTrunc(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	got := quoteTrunc([]byte(long))
	if !strings.HasSuffix(got, "…(200 bytes)") || !utf8.ValidString(got) || len(got) > 100 {
		t.Errorf("quoteTrunc: %s", got)
	}
}
