package segment

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/jsonscan"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

func seedBatches(f *testing.F) {
	f.Add(BrowserBatch(2))
	f.Add(NodeBatch(3))
	for _, item := range []string{BrowserTrack(1), BrowserPage(2), NodeTrack(3), NodeIdentify(4), MobileScreen(5)} {
		f.Add([]byte(`{"batch":[` + item + `],"sentAt":"2024-05-01T12:00:00Z"}`))
	}
	for _, s := range []string{
		`{"batch":[{"type":"alias","userId":"u","previousId":"a"},{"type":"group","anonymousId":1,"groupId":2.5e1,"traits":{"n":"x"}}],` +
			`"context":{"library":{"name":"analytics-go"}},"integrations":{"All":true},"writeKey":"wk"}`,
		`{"batch":[{"type":"track","userId":"u","event":"E","context":{"a":1}}],"context":{"a":2,"b":{"c":[]}}}`,
		`{"batch":[{"type":"identify","user\u0049d":"\ud83d\ude00","traits":{"email":"a@b.co","phone":123}}]}`,
		`{"batch":[{"type":"track","userId":"u","event":"Order Completed","properties":{"revenue":"1e400","currency":"jpy"}}]}`,
		`{"batch":[{"type":"page","anonymousId":"a","timestamp":"2024-05-01 12:00:00+0200","sentAt":"2024-05-01t10:00:00z"}]}`,
		`{"batch":[{"type":"track"}]}`, `{"batch":[1]}`, `{"batch":{}}`, `[]`, `{"batch":[]`, "{\"batch\":[\"\xff\"]}",
		`{"batch":[{"type":"track","userId":"u","event":"E"}]} `, `{"batch":[[[[[[]]]]]]}`, `{"batch":[{"type":"screen","userId":-0.0}]}`,
	} {
		f.Add([]byte(s))
	}
}

// checkDecoded holds for every successful decoding.
func checkDecoded(t *testing.T, msgs []Message) {
	for i := range msgs {
		m := &msgs[i]
		if !knownType(m.Type) {
			t.Fatalf("message %d: type %q", i, m.Type)
		}
		switch {
		case m.Type == "alias":
			if m.UserID == "" || m.PreviousID == "" {
				t.Fatalf("message %d: alias without userId or previousId", i)
			}
		case m.UserID == "" && m.AnonymousID == "":
			t.Fatalf("message %d: no userId nor anonymousId", i)
		case m.Type == "track" && m.Event == "":
			t.Fatalf("message %d: track without event", i)
		case m.Type == "group" && m.GroupID == "":
			t.Fatalf("message %d: group without groupId", i)
		}
		// What decoding noted is what reading the (merged) context gives.
		if !m.noted.ok || !reflect.DeepEqual(m.noted.ctx, readContext(m.Context)) {
			t.Fatalf("message %d: noted %+v, context %s", i, m.noted, m.Context)
		}
		for name, raw := range map[string]json.RawMessage{"context": m.Context, "integrations": m.Integrations,
			"properties": m.Properties, "traits": m.Traits} {
			if raw != nil && (!isObject(raw) || !json.Valid(raw)) {
				t.Fatalf("message %d: %s is %q", i, name, raw)
			}
		}
	}
	ins := ToInputs(testCP, msgs, testReceived)
	if len(ins) != len(msgs) {
		t.Fatalf("%d inputs for %d messages", len(ins), len(msgs))
	}
	for i := range ins {
		if p := ins[i].Properties; p != nil && (!json.Valid(p) || len(p) > maxProperties) {
			t.Fatalf("input %d: properties %q", i, p)
		}
		if len(ins[i].Identifiers) == 0 {
			t.Fatalf("input %d: no identifiers", i)
		}
	}
}

// checkError holds for every refusal.
func checkError(t *testing.T, body []byte, err error) {
	var inv *errs.Invalid
	var st *problem.Status
	switch {
	case errors.As(err, &st):
		if st.Code != 413 {
			t.Fatalf("status %d", st.Code)
		}
	case errors.As(err, &inv):
		if isMalformed(err) == json.Valid(body) {
			t.Fatalf("malformed %v for a body that json.Valid says is %v: %v", isMalformed(err), json.Valid(body), err)
		}
	default:
		t.Fatalf("error %T %v", err, err)
	}
}

// sameStrings compares what the decoder read with what encoding/json reads
// for the plain string ids of each item.
func sameStrings(t *testing.T, body []byte, msgs []Message) {
	var env struct {
		Batch []map[string]json.RawMessage `json:"batch"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Batch) != len(msgs) {
		return // e.g. an upper-case "Batch" member that encoding/json also takes
	}
	for i, item := range env.Batch {
		for key, got := range map[string]string{"userId": msgs[i].UserID, "anonymousId": msgs[i].AnonymousID,
			"event": msgs[i].Event, "messageId": msgs[i].MessageID} {
			raw, ok := item[key]
			if !ok || len(raw) == 0 || raw[0] != '"' {
				continue
			}
			var want string
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("item %d %s: decoded %q, encoding/json %q", i, key, got, want)
			}
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	seedBatches(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if got, want := jsonscan.Valid(body), json.Valid(body); got != want {
			t.Fatalf("valid = %v, json.Valid = %v", got, want)
		}
		msgs, err := DecodeBatch(body)
		if err != nil {
			checkError(t, body, err)
			return
		}
		if !json.Valid(body) {
			t.Fatal("decoded a body that is not JSON")
		}
		checkDecoded(t, msgs)
		sameStrings(t, body, msgs)
	})
}

func FuzzDecode(f *testing.F) {
	for i, s := range []string{BrowserTrack(1), BrowserPage(2), NodeTrack(3), NodeIdentify(4), MobileScreen(5)} {
		f.Add(Types[i%len(Types)], []byte(s))
	}
	for _, c := range []struct{ kind, body string }{
		{"track", `{"userId":"u","event":"E","timestamp":"2024-05-01T12:00:00.123456789+01:00"}`},
		{"identify", `{"userId":123,"traits":{"email":"x@y.z"},"context":{"traits":{"phone":"+1 555 0100"},"device":{"id":"d"}}}`},
		{"alias", `{"userId":"u","previousId":"p"}`},
		{"group", `{"anonymousId":"a","groupId":"g"}`},
		{"page", `{"anonymousId":"a","properties":{"title":"T","url":"https://x"},"context":{"campaign":{"utm_source":"s"}}}`},
		{"screen", `{"anonymousId":"a","name":"S","context":{"externalIds":[{"id":1,"type":"crm"}]}}`},
		{"track", `{"userId":"u","event":"E"`}, {"track", `"x"`}, {"track", ``}, {"bogus", `{}`},
	} {
		f.Add(c.kind, []byte(c.body))
	}
	f.Fuzz(func(t *testing.T, kind string, body []byte) {
		m, err := Decode(kind, body)
		if err != nil {
			if !knownType(kind) {
				return
			}
			checkError(t, body, err)
			return
		}
		if m.Type != kind || !json.Valid(body) {
			t.Fatalf("decoded %q as %q", body, m.Type)
		}
		checkDecoded(t, []Message{m})
	})
}

// FuzzValid checks the hand-written JSON checker and skipper against
// encoding/json on short inputs, where the fuzzer explores the grammar fastest.
func FuzzValid(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `""`, `0`, `-0.5e+7`, `true`, `null`, `{"a":[1,{"b":"\u00e9\n"}]}`, `"\ud800"`,
		"\"\x7f\xff\"", `[1,]`, `{"a" 1}`, `01`, `1.`, `1e`, `-`, `"\q"`, `"\u12"`, " \t\r\n[ ] ", `{"a":"b\\"}`, `"a\\\"b"`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ok := jsonscan.Valid(data)
		if want := json.Valid(data); ok != want {
			t.Fatalf("jsonscan.Valid(%q) = %v, json.Valid = %v", data, ok, want)
		}
		if !ok {
			// The skippers must not panic on bad input either.
			skipValue(data, jsonscan.SkipSpace(data, 0))
			eachMember(data, func(k, v []byte) bool { return true })
			eachElement(data, func(int, []byte) bool { return true })
			return
		}
		i := jsonscan.SkipSpace(data, 0)
		if got, want := skipValue(data, i), jsonscan.CheckValue(data, i, 0); got != want {
			t.Fatalf("skipValue(%q) = %d, jsonscan.CheckValue = %d", data, got, want)
		}
		if data[i] == '"' {
			s, ok := unquote(data[i:jsonscan.CheckValue(data, i, 0)])
			var want string
			if err := json.Unmarshal(data, &want); err != nil || !ok || s != want {
				t.Fatalf("unquote(%q) = %q, %v; encoding/json %q, %v", data, s, ok, want, err)
			}
		}
		if data[i] == '{' {
			var want map[string]json.RawMessage
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			got := map[string]json.RawMessage{}
			if !eachMember(data, func(k, v []byte) bool { got[keyName(k)] = v; return true }) {
				t.Fatalf("eachMember(%q) failed", data)
			}
			if len(got) != len(want) {
				t.Fatalf("members %d, encoding/json %d", len(got), len(want))
			}
			for k, v := range want {
				if string(got[k]) != string(v) {
					t.Fatalf("member %q = %s, encoding/json %s", k, got[k], v)
				}
			}
		}
	})
}
