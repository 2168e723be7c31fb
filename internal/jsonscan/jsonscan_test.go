package jsonscan

import (
	"encoding/json"
	"testing"
)

func TestValid(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{`{"url":"https://shop.example/p/1","price":499.0,"tags":["a","b"],"n":null,"ok":true}`, true},
		{" \t[1, -0.5e+7, \"\\u00e9\\n\"]\r\n", true},
		{`{"a":1,}`, false},        // trailing comma
		{`{"a" 1}`, false},         // no colon
		{`01`, false},              // leading zero
		{"\"a\x01b\"", false},      // raw control character
		{`"\q"`, false},            // unknown escape
		{`{"a":1} {"b":2}`, false}, // two values
		{``, false},
	} {
		if got := Valid([]byte(c.in)); got != c.want {
			t.Errorf("Valid(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// FuzzValid checks Valid against encoding/json, and that the walkers never
// panic on what it refuses.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `""`, `0`, `-0.5e+7`, `true`, `null`, `{"a":[1,{"b":"\u00e9\n"}]}`, `"\ud800"`,
		"\"\x7f\xff\"", `[1,]`, `{"a" 1}`, `01`, `1.`, `1e`, `-`, `"\q"`, `"\u12"`, " \t\r\n[ ] "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid = %v", data, got, want)
		}
		i := SkipSpace(data, 0)
		WalkMembers(data, i, func(_ []byte, v int) int { return CheckValue(data, v, 0) })
		WalkElements(data, i, func(_, v int) int { return CheckValue(data, v, 0) })
	})
}
