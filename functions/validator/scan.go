package main

// A strict, allocation-free JSON reader for one record.
//
// Why not encoding/json: the validator has a budget of 3x a bare json.Valid
// per record. Unmarshalling into map[string]any allocates every key and
// value, and a json.Decoder token stream allocates per token; both blow
// the budget. Reading the bytes once with a small hand-written scanner
// validates the syntax and finds the declared columns in the same pass,
// without allocating on the happy path.
//
// The grammar is RFC 8259, like json.Valid, with one deliberate difference:
// strings must be valid UTF-8 (RFC 8259 section 8.1). json.Valid accepts
// invalid UTF-8; Glue, Athena and Spark would then read replacement
// characters, so such records are rejected as not_json instead of landing
// in the raw zone. The fuzz test in scan_test.go checks that the scanner
// agrees with json.Valid on everything else.

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// maxDepth is the deepest nesting the scanner accepts. It is the limit of
// encoding/json too, and bounds the recursion of skip.
const maxDepth = 10000

// syntaxError is a JSON syntax error at a byte offset of the record.
type syntaxError struct {
	Offset int
	Msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// scanner reads JSON from data, starting at pos.
type scanner struct {
	data []byte
	pos  int
}

// strSafe marks the bytes that may appear in a JSON string without further
// inspection: printable ASCII other than the quote and the backslash.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) errorf(format string, args ...any) error {
	return &syntaxError{Offset: s.pos, Msg: fmt.Sprintf(format, args...)}
}

// expected reports that something other than want was found at pos.
func (s *scanner) expected(want string) error {
	if s.pos >= len(s.data) {
		return s.errorf("unexpected end of input, expected %s", want)
	}
	return s.errorf("unexpected %s, expected %s", describeByte(s.data[s.pos]), want)
}

// skipWS advances past JSON whitespace.
func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// atEnd skips whitespace and reports whether the input is exhausted.
func (s *scanner) atEnd() bool {
	s.skipWS()
	return s.pos >= len(s.data)
}

// peek skips whitespace and returns the next byte, or 0 at the end (a NUL
// byte in the input also reads as 0: use atEnd to tell them apart).
func (s *scanner) peek() byte {
	s.skipWS()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// str reads the string whose opening quote is at pos and returns the span of
// its content (without quotes) and whether the content has escapes (then the
// span must be unescaped before it is compared).
func (s *scanner) str() (start, end int, escaped bool, err error) {
	data := s.data
	i := s.pos + 1
	start = i
	for {
		for i < len(data) && strSafe[data[i]] {
			i++
		}
		if i >= len(data) {
			s.pos = i
			return 0, 0, false, s.errorf("unterminated string")
		}
		switch c := data[i]; {
		case c == '"':
			s.pos = i + 1
			return start, i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(data) {
				s.pos = i + 1
				return 0, 0, false, s.errorf("unterminated string")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(data) || !isHex(data[k]) {
						s.pos = min(k, len(data))
						return 0, 0, false, s.errorf(`invalid \u escape in string`)
					}
				}
				i += 6
			default:
				s.pos = i + 1
				return 0, 0, false, s.errorf("invalid escape %s in string", describeByte(data[i+1]))
			}
		case c < 0x20:
			s.pos = i
			return 0, 0, false, s.errorf("control character 0x%02x in string (must be escaped)", c)
		default: // c >= 0x80: a multi-byte UTF-8 sequence
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				s.pos = i
				return 0, 0, false, s.errorf("invalid UTF-8 in string")
			}
			i += size
		}
	}
}

// num reads the number at pos and returns its span and whether it is an
// integer literal (no fraction, no exponent).
func (s *scanner) num() (start, end int, isInt bool, err error) {
	data := s.data
	i := s.pos
	start = i
	isInt = true
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && data[i] >= '1' && data[i] <= '9':
		i++
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	default:
		s.pos = i
		return 0, 0, false, s.expected("digit")
	}
	if i < len(data) && data[i] == '.' {
		isInt = false
		i++
		if i >= len(data) || !isDigit(data[i]) {
			s.pos = i
			return 0, 0, false, s.expected("digit after decimal point")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		isInt = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if i >= len(data) || !isDigit(data[i]) {
			s.pos = i
			return 0, 0, false, s.expected("digit in exponent")
		}
		for i < len(data) && isDigit(data[i]) {
			i++
		}
	}
	s.pos = i
	return start, i, isInt, nil
}

// lit reads the literal word (true, false or null) at pos.
func (s *scanner) lit(word string) error {
	end := s.pos + len(word)
	if end > len(s.data) || string(s.data[s.pos:end]) != word {
		return s.errorf("invalid literal, expected %s", word)
	}
	s.pos = end
	return nil
}

// skip reads and discards one value of any kind. depth is the nesting depth
// a container opened here would have.
func (s *scanner) skip(depth int) error {
	switch c := s.peek(); c {
	case '"':
		_, _, _, err := s.str()
		return err
	case '{':
		if depth > maxDepth {
			return s.errorf("nesting deeper than %d levels", maxDepth)
		}
		s.pos++
		if s.peek() == '}' {
			s.pos++
			return nil
		}
		for {
			if s.peek() != '"' {
				return s.expected("string (object key)")
			}
			if _, _, _, err := s.str(); err != nil {
				return err
			}
			if s.peek() != ':' {
				return s.expected("':' after object key")
			}
			s.pos++
			if err := s.skip(depth + 1); err != nil {
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
	case '[':
		if depth > maxDepth {
			return s.errorf("nesting deeper than %d levels", maxDepth)
		}
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.pos++
			case ']':
				s.pos++
				return nil
			default:
				return s.expected("',' or ']' in array")
			}
		}
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		if c == '-' || isDigit(c) {
			_, _, _, err := s.num()
			return err
		}
		return s.expected("a JSON value")
	}
}

// kindOf names the JSON kind of a value from its first byte, for messages.
func kindOf(c byte) string {
	switch {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || isDigit(c):
		return "number"
	}
	return "invalid value"
}

// aKind is kindOf with its article, for "data is an array".
func aKind(c byte) string {
	switch k := kindOf(c); k {
	case "null":
		return k
	case "array", "object", "invalid value":
		return "an " + k
	default:
		return "a " + k
	}
}

// describeByte renders a byte for a syntax error message.
func describeByte(c byte) string {
	if c >= 0x21 && c < 0x7f {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
