package segment

import "encoding/binary"

// The functions in this file check JSON by the same rules as
// encoding/json.Valid, and are used instead of it on the hot path:
// encoding/json's byte-at-a-time state machine reads some 340 MB/s on the
// development machine, these about 1.6 GB/s, and the decoder checks each
// value as it walks over it, so that a body is read once. The fuzz tests check
// that valid and json.Valid always agree.

// valid reports whether data is one JSON value with optional white space
// around it.
func valid(data []byte) bool {
	i := checkValue(data, skipSpace(data, 0), 0)
	return i >= 0 && skipSpace(data, i) == len(data)
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

// checkValue checks the value at d[i], which has depth arrays and objects
// around it, and returns the index just past it, or -1.
func checkValue(d []byte, i, depth int) int {
	if i >= len(d) {
		return -1
	}
	switch c := d[i]; {
	case c == '"':
		return checkString(d, i)
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
	return walkMembers(d, i, func(_ []byte, v int) int { return checkValue(d, v, depth) })
}

// checkArray checks the array at d[i]; depth counts it.
func checkArray(d []byte, i, depth int) int {
	return walkElements(d, i, func(_, v int) int { return checkValue(d, v, depth) })
}

// checkString checks the string whose opening quote is at d[i]: no raw
// control characters, only JSON's escapes.
func checkString(d []byte, i int) int {
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
