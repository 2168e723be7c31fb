// Package jsonout appends JSON values to byte slices for the responses that
// are read most (a timeline page is 50 interactions, about 27 KB): reflection
// in encoding/json and its re-scan of every json.RawMessage cost a fifth of
// such a request's CPU.
//
// The output means what encoding/json's would, and strings are escaped the
// same way (<, > and & as \u003c and so on, U+2028 and U+2029 escaped,
// invalid UTF-8 replaced by U+FFFD), so a page reads the same whichever wrote it.
package jsonout

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/jsonscan"
)

const hex = "0123456789abcdef"

// String appends s as a JSON string.
func String(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// Line and paragraph separators are valid JSON but end a line in
		// JavaScript source, so they are escaped as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Time appends t as encoding/json writes a time.Time: RFC 3339 with
// nanoseconds, trailing zeros dropped.
func Time(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// Int appends an integer.
func Int(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// Quoted appends an integer as a JSON string: ids exceed JavaScript's safe
// integers, so the API writes them as strings.
func Quoted(b []byte, v int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '"')
}

// Float appends f in encoding/json's format: plain decimals between 1e-6 and
// 1e21, exponent form outside. NaN and infinities have no JSON form and are
// written as null.
func Float(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 → 1e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// Raw appends a stored JSON value. Every path that stores one checks it
// first; a value that is not JSON anyway (a damaged row) is written as null
// rather than breaking the whole response. Like encoding/json, it escapes
// <, >, & and U+2028/U+2029 (they can only be inside strings).
func Raw(b []byte, v []byte) []byte {
	if len(v) == 0 || !jsonscan.Valid(v) {
		return append(b, "null"...)
	}
	if bytes.IndexAny(v, "<>&\u2028\u2029") < 0 {
		return append(b, v...)
	}
	buf := bytes.NewBuffer(b)
	json.HTMLEscape(buf, v)
	return buf.Bytes()
}
