package segment

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/touchpoint-hub/touchpoint/internal/jsonscan"
)

// The helpers in this file walk JSON text in place, so that an event is read
// without copying or allocating for the parts that are only passed through
// (context, properties...), on top of package jsonscan, whose walkers check
// the structure they walk (the decoder checks a body as it reads it);
// skipValue, eachMember and eachElement are for text already checked. None
// of them panics or reads out of bounds on bad input: they report failure (a
// negative index or false), which the fuzz tests check.

// Constants of the word-at-a-time test for special bytes.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipString returns the index just past the string whose opening quote is at
// d[i], or -1.
func skipString(d []byte, i int) int {
	if i >= len(d) || d[i] != '"' {
		return -1
	}
	i++
	for {
		// Eight bytes at a time while none is a quote or a backslash.
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			q := x ^ (ones * '"')
			b := x ^ (ones * '\\')
			if ((q-ones)&^q|(b-ones)&^b)&highs != 0 {
				break
			}
			i += 8
		}
		for i < len(d) && d[i] != '"' && d[i] != '\\' {
			i++
		}
		if i >= len(d) {
			return -1
		}
		if d[i] == '"' {
			return i + 1
		}
		i += 2
	}
}

// skipValue returns the index just past the value that starts at d[i] (no
// white space before it), or -1.
func skipValue(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				i = skipString(d, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	case '}', ']', ',', ':':
		return -1
	}
	// A number, true, false or null: it runs to the next delimiter.
	start := i
	for i < len(d) {
		switch d[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		}
		i++
	}
	return i
}

// eachMember calls fn with the raw (still quoted) key and the raw value of
// each member of the JSON object obj, in order, until fn returns false. It
// reports false when obj is not an object.
func eachMember(obj []byte, fn func(key, val []byte) bool) bool {
	bad := false
	end := jsonscan.WalkMembers(obj, jsonscan.SkipSpace(obj, 0), func(k []byte, v int) int {
		ve := skipValue(obj, v)
		if ve < 0 {
			bad = true
			return -1
		}
		if !fn(k, obj[v:ve]) {
			return -1
		}
		return ve
	})
	return end >= 0 || (end == -2 && !bad)
}

// eachElement calls fn with each raw element of the JSON array arr, with its
// index, until fn returns false. It reports false when arr is not an array.
func eachElement(arr []byte, fn func(i int, val []byte) bool) bool {
	bad := false
	end := jsonscan.WalkElements(arr, jsonscan.SkipSpace(arr, 0), func(n, v int) int {
		ve := skipValue(arr, v)
		if ve < 0 {
			bad = true
			return -1
		}
		if !fn(n, arr[v:ve]) {
			return -1
		}
		return ve
	})
	return end >= 0 || (end == -2 && !bad)
}

// keyName returns the name of a raw quoted key, as encoding/json reads it
// (escapes resolved, invalid UTF-8 replaced by U+FFFD).
func keyName(key []byte) string {
	if len(key) < 2 {
		return ""
	}
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if json.Unmarshal(key, &s) != nil {
		return ""
	}
	return s
}

// keyIs reports whether the raw quoted key names name, which must be ASCII,
// without allocating for plain keys.
func keyIs(key []byte, name string) bool {
	if len(key) == len(name)+2 && string(key[1:len(key)-1]) == name {
		return true
	}
	// Only escapes can make other bytes read as an ASCII name.
	if bytes.IndexByte(key, '\\') < 0 {
		return false
	}
	return keyName(key) == name
}

// keyEq reports whether the raw quoted key names name, any name.
func keyEq(key []byte, name string) bool {
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner) == name
	}
	return keyName(key) == name
}

// isNull reports whether raw is absent or the JSON null.
func isNull(raw []byte) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// isObject reports whether raw is a JSON object.
func isObject(raw []byte) bool { return len(raw) > 0 && raw[0] == '{' }

// unquote returns the string a raw JSON string stands for; ok is false when
// raw is not a string. Plain strings (no escapes, valid UTF-8) cost one
// allocation; others go through encoding/json, which also replaces invalid
// UTF-8 with U+FFFD.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) && !hasControl(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// flexString reads a value that Segment accepts as a string or a number (ids):
// numbers become their decimal form. ok is false for other JSON types; null
// and absent give "" and true.
func flexString(raw []byte) (string, bool) {
	if isNull(raw) {
		return "", true
	}
	switch c := raw[0]; {
	case c == '"':
		return unquote(raw)
	case c == '-' || (c >= '0' && c <= '9'):
		return numberString(raw)
	}
	return "", false
}

// numberString renders a JSON number as a plain decimal: integers as written,
// others (fractions, exponents) in their shortest decimal form without exponent.
func numberString(raw []byte) (string, bool) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return "", false
	}
	plain := true
	for _, c := range digits {
		if c < '0' || c > '9' {
			plain = false
			break
		}
	}
	if plain {
		return string(raw), true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return "", false
	}
	return strconv.FormatFloat(f, 'f', -1, 64), true
}
