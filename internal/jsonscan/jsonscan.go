// Package jsonscan checks and walks JSON text in place, by the same rules
// as encoding/json.Valid, for the hot paths that would otherwise use it:
// encoding/json's byte-at-a-time state machine reads some 340 MB/s on the
// development machine, these about 1.6 GB/s. The event decoder checks each
// value as it walks over it, so that a body is read once; the interaction
// service checks properties with Valid. None of the functions panics or
// reads out of bounds on bad input: they report failure (a negative index
// or false). The fuzz tests check that Valid and json.Valid always agree.
package jsonscan

import "encoding/binary"

// Valid reports whether data is one JSON value with optional white space
// around it.
func Valid(data []byte) bool {
	i := CheckValue(data, SkipSpace(data, 0), 0)
	return i >= 0 && SkipSpace(data, i) == len(data)
}

// maxDepth bounds the nesting of arrays and objects, as in encoding/json.
const maxDepth = 10000

// strByte marks the bytes that end the fast run through a string: the quote,
// the backslash and the control characters, which must be escaped.
var strByte = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// Constants of the word-at-a-time tests for special bytes.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// CheckValue checks the value at d[i], which has depth arrays and objects
// around it, and returns the index just past it, or -1.
func CheckValue(d []byte, i, depth int) int {
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; {
	case c == '"':
		return CheckString(d, i)
	case c == '{':
		if depth >= maxDepth {
			return -1
		}
		return checkObject(d, i, depth+1)
	case c == '[':
		if depth >= maxDepth {
			return -1
		}
		return checkArray(d, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return checkNumber(d, i)
	case c == 't':
		return checkLiteral(d, i, "true")
	case c == 'f':
		return checkLiteral(d, i, "false")
	case c == 'n':
		return checkLiteral(d, i, "null")
	}
	return -1
}

func checkLiteral(d []byte, i int, lit string) int {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// checkObject checks the object at d[i]; depth counts it.
func checkObject(d []byte, i, depth int) int {
	return WalkMembers(d, i, func(_ []byte, v int) int { return CheckValue(d, v, depth) })
}

// checkArray checks the array at d[i]; depth counts it.
func checkArray(d []byte, i, depth int) int {
	return WalkElements(d, i, func(_, v int) int { return CheckValue(d, v, depth) })
}

// CheckString checks the string whose opening quote is at d[i]: no raw
// control characters, only JSON's escapes.
func CheckString(d []byte, i int) int {
	if i >= len(d) || d[i] != '"' {
		return -1
	}
	i++
	for {
		// Eight bytes at a time while none is special.
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			q := x ^ (ones * '"')
			b := x ^ (ones * '\\')
			if ((q-ones)&^q|(b-ones)&^b|(x-ones*0x20)&^x)&highs != 0 {
				break
			}
			i += 8
		}
		for i < len(d) && !strByte[d[i]] {
			i++
		}
		if i >= len(d) {
			return -1
		}
		switch d[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(d) {
				return -1
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(d)-i < 6 || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // a raw control character
			return -1
		}
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// checkNumber checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at d[i].
func checkNumber(d []byte, i int) int {
	if i < len(d) && d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return -1
	}
	if i < len(d) && d[i] == '.' {
		i++
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		start := i
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	return i
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON white space.
func SkipSpace(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// WalkMembers reads the object that starts at d[i] ('{'): for each member it
// calls fn with the raw (still quoted) key and the index where the value
// starts, and fn returns the index just past the value, or a negative number
// to stop. walkMembers returns the index just past the object, -1 when d
// holds no object there, or -2 when fn stopped.
func WalkMembers(d []byte, i int, fn func(key []byte, v int) int) int {
	if i >= len(d) || d[i] != '{' {
		return -1
	}
	i = SkipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return i + 1
	}
	for {
		ke := CheckString(d, i)
		if ke < 0 {
			return -1
		}
		key := d[i:ke]
		i = SkipSpace(d, ke)
		if i >= len(d) || d[i] != ':' {
			return -1
		}
		i = SkipSpace(d, i+1)
		if i >= len(d) {
			return -1
		}
		ve := fn(key, i)
		if ve < 0 {
			return -2
		}
		if i = afterItem(d, ve, '}'); i < 0 || d[i-1] == '}' {
			return i
		}
	}
}

// WalkElements reads the array that starts at d[i] ('['), calling fn with
// each element's position and the index where it starts; fn returns the
// index just past it, or a negative number to stop. The result is as
// WalkMembers'.
func WalkElements(d []byte, i int, fn func(n, v int) int) int {
	if i >= len(d) || d[i] != '[' {
		return -1
	}
	i = SkipSpace(d, i+1)
	if i < len(d) && d[i] == ']' {
		return i + 1
	}
	for n := 0; ; n++ {
		if i >= len(d) {
			return -1
		}
		ve := fn(n, i)
		if ve < 0 {
			return -2
		}
		if i = afterItem(d, ve, ']'); i < 0 || d[i-1] == ']' {
			return i
		}
	}
}

// afterItem reads what follows a member or element that ends at d[e], in a
// container closed by end: it returns the index just past end when the
// container closes there (so d[result-1] is end), the start of the next
// item after a comma, or -1.
func afterItem(d []byte, e int, end byte) int {
	i := SkipSpace(d, e)
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case ',':
		return SkipSpace(d, i+1)
	case end:
		return i + 1
	}
	return -1
}
