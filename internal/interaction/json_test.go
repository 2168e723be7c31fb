package interaction

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

// plain has Interaction's fields and tags but not its MarshalJSON, so
// encoding/json writes it by reflection: the reference AppendJSON must match.
type plain Interaction

func viaTags(t testing.TB, it *Interaction) []byte {
	t.Helper()
	b, err := json.Marshal((*plain)(it))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fillAll sets every field of v to a value that is not its zero value, so a
// field added to Interaction without a line in AppendJSON shows up here.
func fillAll(t *testing.T, v reflect.Value, s string, n int64) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int, reflect.Int64:
		v.SetInt(n)
	case reflect.Float64:
		v.SetFloat(-0.25)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillAll(t, v.Elem(), s, n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 11, 23, 16, 30, 5, 120000000, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fillAll(t, v.Field(i), s, n+int64(i))
		}
	case reflect.Slice:
		if v.Type() == reflect.TypeFor[json.RawMessage]() {
			v.SetBytes([]byte(`{"sku":"TV-55","qty":2,"gift":true,"tags":["a","<b>"]}`))
			return
		}
		t.Fatalf("no test value for a field of type %s", v.Type())
	default:
		t.Fatalf("no test value for a field of type %s", v.Type())
	}
}

func TestAppendJSONMatchesTags(t *testing.T) {
	everything := &Interaction{}
	fillAll(t, reflect.ValueOf(everything).Elem(), `Ann "Smith" <ann@example.com> & co`+"\n\t\u2028é\x01", 7)
	cp := id.ID(42)
	nothing := &Interaction{ID: 1, CustomerID: 2, Kind: "call", Direction: Inbound, Properties: json.RawMessage(`{}`),
		OccurredAt: time.Unix(1700000000, 0).UTC(), ReceivedAt: time.Unix(1700000001, 5).UTC(), Source: "api"}
	someCampaign := *nothing
	someCampaign.ContactPointID = &cp
	someCampaign.Campaign.Medium = "tv"
	for name, it := range map[string]*Interaction{"every field": everything, "no optional field": nothing, "one campaign field": &someCampaign} {
		got, want := it.AppendJSON(nil), viaTags(t, it)
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\nAppendJSON %s\ntags       %s", name, got, want)
		}
		if m, err := json.Marshal(it); err != nil || !bytes.Equal(m, want) {
			t.Errorf("%s: json.Marshal %s %v", name, m, err)
		}
	}
	page := &Page{Items: []*Interaction{everything, nothing}, NextCursor: "abc"}
	type plainPage struct {
		Items      []*plain `json:"items"`
		NextCursor string   `json:"next_cursor,omitempty"`
	}
	want, _ := json.Marshal(plainPage{Items: []*plain{(*plain)(everything), (*plain)(nothing)}, NextCursor: "abc"})
	if got := page.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("page:\nAppendJSON %s\ntags       %s", got, want)
	}
	if got := (&Page{Items: []*Interaction{}}).AppendJSON(nil); string(got) != `{"items":[]}` {
		t.Errorf("empty page: %s", got)
	}
}

// A stored value that is somehow not JSON must not break the response.
func TestAppendJSONDamagedProperties(t *testing.T) {
	it := &Interaction{Kind: "call", Properties: json.RawMessage(`{"a":`)}
	var v map[string]any
	if err := json.Unmarshal(it.AppendJSON(nil), &v); err != nil || v["properties"] != nil {
		t.Fatalf("%v %v", v, err)
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("call", "Hello <b>you</b> & \"me\"\n", 0.5, int64(1700000000123456))
	f.Add("\xff\xfe", "\u2029\x7f\x00", 1e-7, int64(-5))
	f.Add("", "", 1e21, int64(0))
	f.Fuzz(func(t *testing.T, a, b string, f float64, micros int64) {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return // encoding/json refuses them; AppendJSON writes null
		}
		at := time.UnixMicro(micros % (250000 * 365 * 24 * 3600 * 1e6)).UTC()
		it := &Interaction{ID: id.ID(micros), Kind: a, Direction: b, Subject: a + b, Content: strings.Repeat(b, 3),
			Sentiment: &f, OccurredAt: at, ReceivedAt: at, Properties: json.RawMessage(`[1,"x"]`), Source: b,
			Campaign: Campaign{Term: a}}
		got, want := it.AppendJSON(nil), viaTags(t, it)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON %q\ntags       %q", got, want)
		}
	})
}
