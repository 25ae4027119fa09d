package main

// Parsers for the column values, working on the raw bytes the scanner found
// so the happy path does not allocate (strconv and time.Parse take strings,
// and converting the bytes would allocate once per field).

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// parseInt64 parses an integer literal the scanner accepted (optional minus,
// digits). ok is false if the value does not fit in an int64.
func parseInt64(b []byte) (n int64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	// Accumulate as a negative number: its range is one larger, so
	// -9223372036854775808 parses too.
	const minInt64 = -1 << 63
	for _, c := range b {
		d := int64(c - '0')
		if n < (minInt64+d)/10 {
			return 0, false
		}
		n = n*10 - d
	}
	if !neg {
		if n == minInt64 {
			return 0, false
		}
		n = -n
	}
	return n, true
}

// pow10 holds the exactly representable powers of ten used by parseFloat.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat parses a number literal the scanner accepted. ok is false if
// it is outside the float64 range (e.g. 1e400).
//
// Fast path: a literal without exponent and with at most 15 digits is
// m / 10^k with m < 2^53 and k <= 22; both are exact float64 values and
// IEEE division rounds correctly, so the result equals strconv.ParseFloat's
// (the same argument strconv itself uses). Everything else goes to strconv.
func parseFloat(b []byte) (f float64, ok bool) {
	neg := len(b) > 0 && b[0] == '-'
	digits, frac := 0, -1
	var m uint64
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.':
			frac = 0
		case c == '-':
		default: // exponent
			digits = 99
		}
		if digits > 15 {
			break
		}
	}
	if digits <= 15 {
		f = float64(m)
		if frac > 0 {
			f /= pow10[frac]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}

// parseDate parses YYYY-MM-DD and checks that the day exists in that month.
func parseDate(b []byte) (year int, month time.Month, day int, ok bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, 0, 0, false
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return 0, 0, 0, false
	}
	return y, time.Month(m), d, true
}

// parseRFC3339 is parseTimestamp with offset-less values in UTC.
func parseRFC3339(b []byte) (t time.Time, ok bool) { return parseTimestamp(b, time.UTC) }

// parseTimestamp parses a timestamp in the one grammar the validator and
// the Glue jobs share (glue/lakelib/schema.py parse_timestamp; both are
// checked against dataset/testdata/timestamps.json):
//
//	YYYY-MM-DD [(T|t|space) HH:MM [:SS [(.|,) digits]]] [spaces] [offset]
//
// with offset Z, z, UTC, +HH:MM, +HHMM or +HH (or -), after surrounding
// spaces and tabs are trimmed. RFC 3339 date-times are the main case
// (2025-11-25T19:46:40Z, 2025-11-25T21:46:40.123456+02:00); the others are
// database-export forms, e.g. 2025-11-25 19:46:40.123456 as AWS DMS writes
// datetime columns. No offset means the dataset's timezone loc; a bare date
// is midnight there. Digits are ASCII only; days must exist in their month;
// hours 00-23, minutes and seconds 00-59 (leap second 60 is rejected, as
// time.Parse does); offsets up to 23:59. Fractional seconds beyond
// nanoseconds are truncated.
func parseTimestamp(b []byte, loc *time.Location) (t time.Time, ok bool) {
	b = bytes.Trim(b, " \t") // as the jobs read padded CSV fields
	if len(b) < 10 {
		return time.Time{}, false
	}
	y, mo, d, ok := parseDate(b[:10])
	if !ok {
		return time.Time{}, false
	}
	i, hh, mm, ss, ns := 10, 0, 0, 0, 0
	if i < len(b) && (b[i] == 'T' || b[i] == 't' || b[i] == ' ') && i+6 <= len(b) && b[i+3] == ':' &&
		isDigit(b[i+1]) && isDigit(b[i+2]) && isDigit(b[i+4]) && isDigit(b[i+5]) {
		hh, _ = digits(b[i+1 : i+3])
		mm, _ = digits(b[i+4 : i+6])
		i += 6
		if i < len(b) && b[i] == ':' {
			var okS bool
			if i+3 > len(b) {
				return time.Time{}, false
			}
			if ss, okS = digits(b[i+1 : i+3]); !okS {
				return time.Time{}, false
			}
			i += 3
			if i < len(b) && (b[i] == '.' || b[i] == ',') {
				i++
				start := i
				for i < len(b) && isDigit(b[i]) {
					if i-start < 9 {
						ns = ns*10 + int(b[i]-'0')
					}
					i++
				}
				n := i - start
				if n == 0 {
					return time.Time{}, false
				}
				for ; n < 9; n++ {
					ns *= 10
				}
			}
		}
		if hh > 23 || mm > 59 || ss > 59 {
			return time.Time{}, false
		}
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	rest := b[i:]
	offset := 0
	switch {
	case len(rest) == 0:
		return time.Date(y, mo, d, hh, mm, ss, ns, loc), true // no offset: the dataset's zone
	case string(rest) == "Z" || string(rest) == "z" || string(rest) == "UTC":
	case rest[0] == '+' || rest[0] == '-':
		var oh, om int
		var ok1, ok2 bool
		switch {
		case len(rest) == 3: // +HH
			oh, ok1 = digits(rest[1:3])
			ok2 = true
		case len(rest) == 5: // +HHMM
			oh, ok1 = digits(rest[1:3])
			om, ok2 = digits(rest[3:5])
		case len(rest) == 6 && rest[3] == ':': // +HH:MM
			oh, ok1 = digits(rest[1:3])
			om, ok2 = digits(rest[4:6])
		}
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t = time.Date(y, mo, d, hh, mm, ss, ns, time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, true
}

// formatDate renders the UTC date of t as YYYY-MM-DD (the dt partition).
func formatDate(t time.Time) string {
	y, m, d := t.UTC().Date()
	var b [10]byte
	b[0] = byte('0' + y/1000%10)
	b[1] = byte('0' + y/100%10)
	b[2] = byte('0' + y/10%10)
	b[3] = byte('0' + y%10)
	b[4] = '-'
	b[5] = byte('0' + m/10)
	b[6] = byte('0' + m%10)
	b[7] = '-'
	b[8] = byte('0' + d/10)
	b[9] = byte('0' + d%10)
	return string(b[:])
}

// digits parses a short run of ASCII digits.
func digits(b []byte) (n int, ok bool) {
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// unescape returns the content of a JSON string (span without quotes) that
// has escapes. Rare path (keys and values with backslashes), so it may
// allocate; the scanner has already validated the syntax.
func unescape(raw []byte) []byte {
	q := make([]byte, 0, len(raw)+2)
	q = append(q, '"')
	q = append(q, raw...)
	q = append(q, '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return raw // unreachable for scanner-validated input
	}
	return []byte(s)
}

// quoteTrunc quotes a value for a log message, cut to a readable length so
// one huge bad value cannot flood the logs.
func quoteTrunc(b []byte) string {
	const limit = 64
	if len(b) <= limit {
		return strconv.Quote(string(b))
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return strconv.Quote(string(b[:cut])) + "…(" + strconv.Itoa(len(b)) + " bytes)"
}
