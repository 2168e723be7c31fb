package segment

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/errs"
	"github.com/touchpoint-hub/touchpoint/internal/web/problem"
)

// sized returns a track event of exactly n bytes of JSON.
func sized(t testing.TB, n int) string {
	t.Helper()
	const head, tail = `{"type":"track","event":"Padded","userId":"u1","properties":{"pad":"`, `"}}`
	pad := n - len(head) - len(tail)
	if pad < 0 {
		t.Fatalf("cannot make an event of %d bytes", n)
	}
	return head + strings.Repeat("x", pad) + tail
}

// sizedBatch returns a batch body of exactly n bytes whose items are at most
// 32 KB each.
func sizedBatch(t testing.TB, n int) string {
	t.Helper()
	const head, tail = `{"batch":[`, `]}`
	rest := n - len(head) - len(tail)
	var items []string
	for rest > 0 {
		size := min(rest, 30000)
		if len(items) > 0 {
			size-- // the comma
		}
		if left := rest - size - 1; left > 0 && left < 200 {
			size -= 200 // leave enough for a last item
		}
		items = append(items, sized(t, size))
		rest -= size
		if len(items) > 1 {
			rest--
		}
	}
	b := head + strings.Join(items, ",") + tail
	if len(b) != n {
		t.Fatalf("made a batch of %d bytes, want %d", len(b), n)
	}
	return b
}

// wantInvalid checks that err is an *errs.Invalid for field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var inv *errs.Invalid
	if !errors.As(err, &inv) {
		t.Fatalf("error %v (%T), want *errs.Invalid for %q", err, err, field)
	}
	if inv.Field != field {
		t.Fatalf("error field %q (%v), want %q", inv.Field, inv, field)
	}
}

// wantStatus checks that err is a *problem.Status with code and field.
func wantStatus(t *testing.T, err error, code int, field string) {
	t.Helper()
	var st *problem.Status
	if !errors.As(err, &st) {
		t.Fatalf("error %v (%T), want *problem.Status %d", err, err, code)
	}
	if st.Code != code || st.Field != field {
		t.Fatalf("status %d field %q (%s), want %d %q", st.Code, st.Field, st.Detail, code, field)
	}
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name, kind, body string
		want             Message // checked when field is ""
		field            string  // the *errs.Invalid field expected, "-" for none
	}{
		{name: "track", kind: "track",
			body: `{"userId":"u1","anonymousId":"a1","event":"Signed Up","messageId":"m1","properties":{"plan":"pro"},"context":{"ip":"1.2.3.4"},"integrations":{"All":true},"writeKey":"wk"}`,
			want: Message{Type: "track", UserID: "u1", AnonymousID: "a1", Event: "Signed Up", MessageID: "m1",
				Properties: json.RawMessage(`{"plan":"pro"}`), Context: json.RawMessage(`{"ip":"1.2.3.4"}`),
				Integrations: json.RawMessage(`{"All":true}`), WriteKey: "wk"}, field: "-"},
		{name: "path gives the type", kind: "page", body: `{"type":"track","anonymousId":"a1","name":"Home","category":"Docs"}`,
			want: Message{Type: "page", AnonymousID: "a1", Name: "Home", Category: "Docs"}, field: "-"},
		{name: "number ids", kind: "identify", body: `{"userId":12345,"anonymousId":-7,"messageId":99,"traits":{}}`,
			want: Message{Type: "identify", UserID: "12345", AnonymousID: "-7", MessageID: "99", Traits: json.RawMessage(`{}`)}, field: "-"},
		{name: "number id with exponent", kind: "identify", body: `{"userId":1.5e3}`,
			want: Message{Type: "identify", UserID: "1500"}, field: "-"},
		{name: "escaped strings", kind: "track", body: `{"userId":"u\u00e9\"1","event":"Caf\u00e9 \\ Bar","user\u0049d":"ignored-as-key-is-userId"}`,
			want: Message{Type: "track", UserID: "ignored-as-key-is-userId", Event: `Café \ Bar`}, field: "-"},
		{name: "null fields", kind: "track", body: `{"userId":null,"anonymousId":"a","event":"E","properties":null,"context":null,"timestamp":null,"name":null}`,
			want: Message{Type: "track", AnonymousID: "a", Event: "E"}, field: "-"},
		{name: "white space around", kind: "track", body: " \n{ \"userId\" : \"u\" , \"event\" : \"E\" }\r\n\t",
			want: Message{Type: "track", UserID: "u", Event: "E"}, field: "-"},
		{name: "alias", kind: "alias", body: `{"userId":"u2","previousId":"a1"}`,
			want: Message{Type: "alias", UserID: "u2", PreviousID: "a1"}, field: "-"},
		{name: "group", kind: "group", body: `{"anonymousId":"a1","groupId":42,"traits":{"name":"Acme"}}`,
			want: Message{Type: "group", AnonymousID: "a1", GroupID: "42", Traits: json.RawMessage(`{"name":"Acme"}`)}, field: "-"},

		{name: "no ids", kind: "track", body: `{"event":"E"}`, field: "userId"},
		{name: "empty ids", kind: "page", body: `{"userId":"","anonymousId":""}`, field: "userId"},
		{name: "bool userId", kind: "track", body: `{"userId":true,"event":"E"}`, field: "userId"},
		{name: "object anonymousId", kind: "track", body: `{"anonymousId":{},"event":"E"}`, field: "anonymousId"},
		{name: "track without event", kind: "track", body: `{"userId":"u"}`, field: "event"},
		{name: "track with empty event", kind: "track", body: `{"userId":"u","event":""}`, field: "event"},
		{name: "event not a string", kind: "track", body: `{"userId":"u","event":5}`, field: "event"},
		{name: "group without groupId", kind: "group", body: `{"userId":"u"}`, field: "groupId"},
		{name: "alias without previousId", kind: "alias", body: `{"userId":"u"}`, field: "previousId"},
		{name: "alias with anonymousId only", kind: "alias", body: `{"anonymousId":"a","previousId":"p"}`, field: "userId"},
		{name: "properties not an object", kind: "track", body: `{"userId":"u","event":"E","properties":[1]}`, field: "properties"},
		{name: "context not an object", kind: "track", body: `{"userId":"u","event":"E","context":"x"}`, field: "context"},
		{name: "traits not an object", kind: "identify", body: `{"userId":"u","traits":1}`, field: "traits"},
		{name: "bad timestamp", kind: "track", body: `{"userId":"u","event":"E","timestamp":"yesterday"}`, field: "timestamp"},
		{name: "timestamp a number", kind: "track", body: `{"userId":"u","event":"E","timestamp":1714566896}`, field: "timestamp"},
		{name: "bad sentAt", kind: "track", body: `{"userId":"u","event":"E","sentAt":"2024-13-01T00:00:00Z"}`, field: "sentAt"},
		{name: "not an object", kind: "track", body: `["userId"]`, field: ""},
		{name: "unknown kind", kind: "bogus", body: `{"userId":"u"}`, field: "type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(c.kind, []byte(c.body))
			if c.field != "-" {
				wantInvalid(t, err, c.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m.noted = notes{}
			if !reflect.DeepEqual(m, c.want) {
				t.Fatalf("got  %+v\nwant %+v", m, c.want)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{``, `{`, `{"userId":"u",}`, `{"userId":"u"} x`, `{"userId":"u`, "{\"userId\":\"a\x01\"}",
		`{"userId":01}`, `{"userId":"\x"}`, `nul`, `{"a":[1,2}`, `{"userId":"u","event":"E"}{}`} {
		_, err := Decode("track", []byte(body))
		var inv *errs.Invalid
		if !errors.As(err, &inv) || inv.Field != "" || !strings.HasPrefix(inv.Reason, "malformed JSON: ") ||
			!strings.Contains(inv.Reason, "offset") || !isMalformed(err) {
			t.Errorf("Decode(%q) error %v, want malformed JSON with offset", body, err)
		}
		if _, err := DecodeBatch([]byte(`{"batch":[` + body + `]}`)); body != "" && !isMalformed(err) {
			t.Errorf("DecodeBatch with item %q: error %v, want malformed JSON", body, err)
		}
	}
	// Malformed JSON is reported before the faults of the items before it.
	_, err := DecodeBatch([]byte(`{"batch":[{"type":"track"},{"type":"track","userId":"u","event":"E"},]}`))
	if !isMalformed(err) {
		t.Fatalf("error %v, want malformed JSON", err)
	}
}

func TestDecodeSizeLimits(t *testing.T) {
	if _, err := Decode("track", []byte(sized(t, MaxEventBytes))); err != nil {
		t.Fatalf("event of exactly 32 KB: %v", err)
	}
	_, err := Decode("track", []byte(sized(t, MaxEventBytes+1)))
	wantStatus(t, err, 413, "")
	if !strings.Contains(err.Error(), "32 KB") {
		t.Errorf("detail %q does not name the limit", err)
	}

	// Items of a batch: exactly 32 KB passes, one byte more is refused, naming the item.
	ok := `{"batch":[` + sized(t, 100) + `,` + sized(t, MaxEventBytes) + `]}`
	if msgs, err := DecodeBatch([]byte(ok)); err != nil || len(msgs) != 2 {
		t.Fatalf("batch with an item of exactly 32 KB: %d, %v", len(msgs), err)
	}
	_, err = DecodeBatch([]byte(`{"batch":[` + sized(t, 100) + `,` + sized(t, MaxEventBytes+1) + `]}`))
	wantStatus(t, err, 413, "batch[1]")
	// Also when the item has other faults.
	big := strings.Replace(sized(t, MaxEventBytes+1), `"userId":"u1"`, `"userId":true`, 1)
	_, err = DecodeBatch([]byte(`{"batch":[` + big + `]}`))
	wantStatus(t, err, 413, "batch[0]")

	body := sizedBatch(t, MaxBatchBytes)
	msgs, err := DecodeBatch([]byte(body))
	if err != nil {
		t.Fatalf("batch of exactly 500 KB: %v", err)
	}
	if len(msgs) < 17 {
		t.Fatalf("got %d messages", len(msgs))
	}
	_, err = DecodeBatch([]byte(sizedBatch(t, MaxBatchBytes+1)))
	wantStatus(t, err, 413, "")
	if !strings.Contains(err.Error(), "500 KB") {
		t.Errorf("detail %q does not name the limit", err)
	}
}

func TestDecodeBatch(t *testing.T) {
	body := `{"batch":[
		{"type":"track","event":"A","userId":"u1","context":{"ip":"5.6.7.8","library":{"name":"own"}},"integrations":{"Mixpanel":false}},
		{"type":"page","anonymousId":"a1","sentAt":"2024-05-01T10:00:00Z"},
		{"type":"identify","userId":"u1","context":{}},
		{"type":"alias","userId":"u1","previousId":"a1","writeKey":"other"}
	],"context":{"library":{"name":"analytics-python","version":"2.2"},"ip":"1.2.3.4","locale":"de"},
	"integrations":{"All":true,"Mixpanel":true},"sentAt":"2024-05-01T12:00:00.5Z","writeKey":"wk"}`
	msgs, err := DecodeBatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 4 {
		t.Fatalf("got %d messages", len(msgs))
	}
	obj := func(raw json.RawMessage) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return m
	}
	for i, want := range []struct {
		context, integrations string
		sentAt                time.Time
		writeKey              string
	}{
		{`{"ip":"5.6.7.8","library":{"name":"own"},"locale":"de"}`, `{"Mixpanel":false,"All":true}`,
			time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC), "wk"},
		{`{"library":{"name":"analytics-python","version":"2.2"},"ip":"1.2.3.4","locale":"de"}`, `{"All":true,"Mixpanel":true}`,
			time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), "wk"},
		{`{"library":{"name":"analytics-python","version":"2.2"},"ip":"1.2.3.4","locale":"de"}`, `{"All":true,"Mixpanel":true}`,
			time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC), "wk"},
		{`{"library":{"name":"analytics-python","version":"2.2"},"ip":"1.2.3.4","locale":"de"}`, `{"All":true,"Mixpanel":true}`,
			time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC), "other"},
	} {
		m := msgs[i]
		if got, w := obj(m.Context), obj(json.RawMessage(want.context)); !reflect.DeepEqual(got, w) {
			t.Errorf("item %d context %s, want %s", i, m.Context, want.context)
		}
		if got, w := obj(m.Integrations), obj(json.RawMessage(want.integrations)); !reflect.DeepEqual(got, w) {
			t.Errorf("item %d integrations %s, want %s", i, m.Integrations, want.integrations)
		}
		if !m.SentAt.Equal(want.sentAt) {
			t.Errorf("item %d sentAt %v, want %v", i, m.SentAt, want.sentAt)
		}
		if m.WriteKey != want.writeKey {
			t.Errorf("item %d writeKey %q, want %q", i, m.WriteKey, want.writeKey)
		}
	}
	if msgs[0].Type != "track" || msgs[1].Type != "page" || msgs[2].Type != "identify" || msgs[3].Type != "alias" {
		t.Errorf("types %q %q %q %q", msgs[0].Type, msgs[1].Type, msgs[2].Type, msgs[3].Type)
	}

	// Without a batch context the items keep theirs as they are.
	msgs, err = DecodeBatch([]byte(`{"batch":[{"type":"track","event":"A","userId":"u","context":{"a":1}}],"context":{}}`))
	if err != nil || string(msgs[0].Context) != `{"a":1}` {
		t.Fatalf("context %s, %v", msgs[0].Context, err)
	}
	// An empty item context gets the batch's members.
	msgs, err = DecodeBatch([]byte(`{"batch":[{"type":"track","event":"A","userId":"u","context":{ }}],"context":{"b":2,"c":[3]}}`))
	if err != nil || !reflect.DeepEqual(obj(msgs[0].Context), map[string]any{"b": 2.0, "c": []any{3.0}}) {
		t.Fatalf("context %s, %v", msgs[0].Context, err)
	}
	// The batch members may come before the batch.
	msgs, err = DecodeBatch([]byte(`{"sentAt":"2024-05-01T12:00:00Z","context":{"x":1},"batch":[{"type":"screen","userId":"u","name":"S"}]}`))
	if err != nil || string(msgs[0].Context) != `{"x":1}` || msgs[0].SentAt.IsZero() {
		t.Fatalf("%+v, %v", msgs, err)
	}
}

func TestDecodeBatchFaults(t *testing.T) {
	for _, c := range []struct{ body, field string }{
		{`{"batch":[{"type":"track","event":"E","userId":"u"},{"type":"track","event":"E"}]}`, "batch[1].userId"},
		{`{"batch":[{"event":"E","userId":"u"}]}`, "batch[0].type"},
		{`{"batch":[{"type":"Track","event":"E","userId":"u"}]}`, "batch[0].type"},
		{`{"batch":[{"type":"purchase","event":"E","userId":"u"}]}`, "batch[0].type"},
		{`{"batch":[{"type":7,"event":"E","userId":"u"}]}`, "batch[0].type"},
		{`{"batch":[{"type":"track","userId":"u"}]}`, "batch[0].event"},
		{`{"batch":[{"type":"group","userId":"u"}]}`, "batch[0].groupId"},
		{`{"batch":[{"type":"alias","userId":"u"}]}`, "batch[0].previousId"},
		{`{"batch":[{"type":"alias","previousId":"p","anonymousId":"a"}]}`, "batch[0].userId"},
		{`{"batch":[{"type":"page","userId":"u"},{"type":"page","userId":"u","timestamp":"soon"}]}`, "batch[1].timestamp"},
		{`{"batch":[{"type":"page","userId":"u"},"x"]}`, "batch[1]"},
		{`{"batch":{"type":"page"}}`, "batch"},
		{`{"batch":null}`, "batch"},
		{`{}`, "batch"},
		{`{"Batch":[]}`, "batch"},
		{`[{"type":"page","userId":"u"}]`, ""},
		{`{"batch":[],"context":[]}`, "context"},
		{`{"batch":[],"integrations":"all"}`, "integrations"},
		{`{"batch":[],"sentAt":"now"}`, "sentAt"},
		{`{"batch":[],"writeKey":12}`, "writeKey"},
	} {
		_, err := DecodeBatch([]byte(c.body))
		t.Run(c.body, func(t *testing.T) { wantInvalid(t, err, c.field) })
	}
	msgs, err := DecodeBatch([]byte(`{"batch":[]}`))
	if err != nil || msgs == nil || len(msgs) != 0 {
		t.Fatalf("empty batch: %v, %v", msgs, err)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 5, 1, 12, 34, 56, 789000000, time.UTC)
	whole := want.Truncate(time.Second)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2024-05-01T12:34:56.789Z", want},       // analytics.js: Date.toISOString
		{"2024-05-01T12:34:56Z", whole},          // RFC 3339 without fraction
		{"2024-05-01T12:34:56.789000Z", want},    // microseconds
		{"2024-05-01T12:34:56.789000000Z", want}, // nanoseconds
		{"2024-05-01T14:34:56.789+02:00", want},  // offset
		{"2024-05-01T08:34:56.789-04:00", want},  // negative offset
		{"2024-05-01T14:34:56.789+0200", want},   // Java/Android: no colon
		{"2024-05-01T14:34:56.789+02", want},     // hours only
		{"2024-05-01T12:34:56.789", want},        // no zone: UTC
		{"2024-05-01 12:34:56.789Z", want},       // space for T
		{"2024-05-01t12:34:56.789z", want},       // lower case
		{"2024-05-01T12:34Z", time.Date(2024, 5, 1, 12, 34, 0, 0, time.UTC)},
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, ok := parseTimeRaw([]byte(`"` + c.in + `"`))
		if !ok || !got.Equal(c.want) {
			t.Errorf("parse %q = %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
	for _, bad := range []string{"yesterday", "2024-02-30T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:34:56.Z",
		"2024-05-01T12:34:56+25:00", "1714566896", "2024-5-1", "2024-05-01T12:34:56.789Zjunk"} {
		if got, ok := parseTimeRaw([]byte(`"` + bad + `"`)); ok {
			t.Errorf("parse %q = %v, want refusal", bad, got)
		}
	}
}

func TestOccurredAt(t *testing.T) {
	at := func(s string) time.Time {
		tm, ok := parseTime(s)
		if !ok {
			t.Fatalf("bad time %q", s)
		}
		return tm
	}
	received := at("2024-05-01T12:00:10.000Z")
	for _, c := range []struct {
		name string
		body string
		want time.Time
	}{
		// The device clock is an hour and a bit slow: the event happened 5.15 s
		// before it was sent, so 5.15 s before it was received.
		{"originalTimestamp and sentAt", `{"originalTimestamp":"2024-05-01T10:59:54.850Z","sentAt":"2024-05-01T11:00:00.000Z"}`,
			at("2024-05-01T12:00:04.850Z")},
		{"timestamp and sentAt", `{"timestamp":"2024-05-01T10:59:54.850Z","sentAt":"2024-05-01T11:00:00.000Z"}`,
			at("2024-05-01T12:00:04.850Z")},
		{"originalTimestamp wins over timestamp", `{"originalTimestamp":"2024-05-01T10:59:00Z","timestamp":"2020-01-01T00:00:00Z","sentAt":"2024-05-01T11:00:00Z"}`,
			at("2024-05-01T11:59:10Z")},
		// A clock that runs ahead, in another zone.
		{"fast clock with offset", `{"timestamp":"2024-05-01T15:00:00+02:00","sentAt":"2024-05-01T13:00:30Z"}`,
			at("2024-05-01T11:59:40Z")},
		// Historical import: the gap is kept, so the event stays in the past.
		{"import", `{"timestamp":"2020-01-01T00:00:00Z","sentAt":"2024-05-01T12:00:10Z"}`, at("2020-01-01T00:00:00Z")},
		{"timestamp alone", `{"timestamp":"2024-04-30T08:00:00Z"}`, at("2024-04-30T08:00:00Z")},
		{"sentAt alone", `{"sentAt":"2024-04-30T08:00:00Z"}`, received},
		{"no times", `{}`, received},
		{"receivedAt of the client is not trusted", `{"receivedAt":"2020-01-01T00:00:00Z"}`, received},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := strings.Replace(c.body, "{", `{"userId":"u","event":"E",`, 1)
			body = strings.Replace(body, ",}", "}", 1)
			m, err := Decode("track", []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.OccurredAt(received); !got.Equal(c.want) {
				t.Fatalf("OccurredAt = %v, want %v", got, c.want)
			}
		})
	}
	// The batch's sentAt corrects the items without their own.
	msgs, err := DecodeBatch([]byte(`{"batch":[{"type":"track","event":"E","userId":"u","timestamp":"2024-05-01T10:59:50Z"}],"sentAt":"2024-05-01T11:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := msgs[0].OccurredAt(received), at("2024-05-01T12:00:00Z"); !got.Equal(want) {
		t.Fatalf("OccurredAt = %v, want %v", got, want)
	}
}

func TestSamplesDecode(t *testing.T) {
	for name, body := range map[string]string{"browser track": BrowserTrack(1), "browser page": BrowserPage(1),
		"node track": NodeTrack(1), "node identify": NodeIdentify(1), "mobile screen": MobileScreen(1)} {
		var probe struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(body), &probe); err != nil {
			t.Fatalf("%s: sample is not JSON: %v", name, err)
		}
		if _, err := Decode(probe.Type, []byte(body)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, body := range map[string][]byte{"browser": BrowserBatch(100), "node": NodeBatch(100)} {
		msgs, err := DecodeBatch(body)
		if err != nil || len(msgs) != 100 {
			t.Fatalf("%s batch: %d messages, %v", name, len(msgs), err)
		}
	}
}
