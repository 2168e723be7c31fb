package segment

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/contactpoint"
	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/interaction"
)

var (
	testCP       = &contactpoint.ContactPoint{ID: 777, Kind: "website", Name: "Shop"}
	testReceived = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

// mapOne decodes one call and maps it.
func mapOne(t *testing.T, kind, body string) interaction.Input {
	t.Helper()
	m, err := Decode(kind, []byte(body))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	in := ToInputs(testCP, []Message{m}, testReceived)
	if len(in) != 1 {
		t.Fatalf("got %d inputs", len(in))
	}
	return in[0]
}

func ids(pairs ...string) []customer.RawIdentifier {
	out := []customer.RawIdentifier{}
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, customer.RawIdentifier{Kind: pairs[i], Value: pairs[i+1]})
	}
	return out
}

func TestToInputsTrack(t *testing.T) {
	got := mapOne(t, "track", `{"userId":"u1","event":"Plan Selected","messageId":"m-1","timestamp":"2024-05-01T11:00:00Z",
		"properties":{"plan":"pro"},"context":{"ip":"1.2.3.4"},"integrations":{"All":false}}`)
	want := interaction.Input{
		Identifiers:    ids("user_id", "u1"),
		ContactPointID: 777,
		Kind:           "event",
		Direction:      "passive",
		OccurredAt:     time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC),
		Subject:        "Plan Selected",
		Properties:     json.RawMessage(`{"properties":{"plan":"pro"},"context":{"ip":"1.2.3.4"}}`),
		Source:         "segment:777",
		ExternalID:     "m-1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
	// Without properties or context.
	got = mapOne(t, "track", `{"anonymousId":"a1","event":"E"}`)
	if string(got.Properties) != `{"properties":{}}` || got.ExternalID != "" || !got.OccurredAt.Equal(testReceived) {
		t.Fatalf("got %+v", got)
	}
}

func TestToInputsIdentifiers(t *testing.T) {
	for _, c := range []struct {
		name, kind, body string
		want             []customer.RawIdentifier
	}{
		{"ids", "track", `{"userId":"u1","anonymousId":"a1","event":"E"}`, ids("user_id", "u1", "anonymous_id", "a1")},
		{"number user id", "track", `{"userId":42,"event":"E"}`, ids("user_id", "42")},
		{"traits", "identify", `{"userId":"u1","traits":{"email":"Ann@Example.com","phone":"+1 555 0100","name":"Ann"}}`,
			ids("user_id", "u1", "email", "Ann@Example.com", "phone", "+1 555 0100")},
		{"number phone", "identify", `{"userId":"u1","traits":{"phone":15550100}}`, ids("user_id", "u1", "phone", "15550100")},
		{"context traits", "track", `{"anonymousId":"a1","event":"E","context":{"traits":{"email":"ann@example.com"}}}`,
			ids("anonymous_id", "a1", "email", "ann@example.com")},
		{"same email twice", "identify", `{"userId":"u1","traits":{"email":"a@b.co"},"context":{"traits":{"email":"a@b.co"}}}`,
			ids("user_id", "u1", "email", "a@b.co")},
		{"two emails", "identify", `{"userId":"u1","traits":{"email":"a@b.co"},"context":{"traits":{"email":"c@d.co"}}}`,
			ids("user_id", "u1", "email", "a@b.co", "email", "c@d.co")},
		{"external ids", "track", `{"userId":"u1","event":"E","context":{"externalIds":[
			{"id":"crm-1","type":"crm_id","collection":"users","encoding":"none"},{"id":7,"type":"ga_client_id"},{"id":"x"},{"type":"no_id"}]}}`,
			ids("user_id", "u1", "crm_id", "crm-1", "ga_client_id", "7")},
		{"device", "screen", `{"anonymousId":"a1","name":"S","context":{"device":{"id":"dev-1","advertisingId":"ad-1","model":"x"}}}`,
			ids("anonymous_id", "a1", "device_id", "dev-1", "device_id", "ad-1")},
		{"non-string email ignored", "identify", `{"userId":"u1","traits":{"email":{"a":1}}}`, ids("user_id", "u1")},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := mapOne(t, c.kind, c.body)
			if !reflect.DeepEqual(got.Identifiers, c.want) {
				t.Fatalf("identifiers %v, want %v", got.Identifiers, c.want)
			}
		})
	}
}

func TestToInputsKinds(t *testing.T) {
	type want struct {
		kind, subject, content string
		value                  *interaction.Money
		promo                  string
	}
	money := func(minor int64, cur string) *interaction.Money {
		return &interaction.Money{Minor: minor, Currency: cur}
	}
	for _, c := range []struct {
		name, kind, body string
		want             want
	}{
		{"track", "track", `{"userId":"u","event":"Product Viewed","properties":{"price":10}}`, want{kind: "event", subject: "Product Viewed"}},
		{"order revenue", "track", `{"userId":"u","event":"Order Completed","properties":{"revenue":25.5,"total":30,"currency":"EUR","coupon":"SPRING"}}`,
			want{kind: "purchase", subject: "Order Completed", value: money(2550, "EUR"), promo: "SPRING"}},
		{"order total, default USD", "track", `{"userId":"u","event":"Order Completed","properties":{"total":19.99}}`,
			want{kind: "purchase", subject: "Order Completed", value: money(1999, "USD")}},
		{"checkout", "track", `{"userId":"u","event":"Checkout Completed","properties":{"revenue":"12.345","currency":"usd"}}`,
			want{kind: "purchase", subject: "Checkout Completed", value: money(1235, "USD")}},
		{"float rounding", "track", `{"userId":"u","event":"Order Completed","properties":{"revenue":0.29}}`,
			want{kind: "purchase", subject: "Order Completed", value: money(29, "USD")}},
		{"yen", "track", `{"userId":"u","event":"Order Completed","properties":{"revenue":1200,"currency":"JPY"}}`,
			want{kind: "purchase", subject: "Order Completed", value: money(1200, "JPY")}},
		{"dinar", "track", `{"userId":"u","event":"Order Completed","properties":{"revenue":1.5,"currency":"KWD"}}`,
			want{kind: "purchase", subject: "Order Completed", value: money(1500, "KWD")}},
		{"no amount", "track", `{"userId":"u","event":"Order Completed","properties":{"order_id":"o1"}}`,
			want{kind: "purchase", subject: "Order Completed"}},
		{"bad currency", "track", `{"userId":"u","event":"Order Completed","properties":{"revenue":5,"currency":"US$"}}`,
			want{kind: "purchase", subject: "Order Completed"}},
		{"promo_code", "track", `{"userId":"u","event":"Coupon Applied","properties":{"promo_code":"P1"}}`,
			want{kind: "event", subject: "Coupon Applied", promo: "P1"}},
		{"coupon wins", "track", `{"userId":"u","event":"E","properties":{"promo_code":"P1","coupon":"C1"}}`,
			want{kind: "event", subject: "E", promo: "C1"}},
		{"page", "page", `{"anonymousId":"a","name":"Pricing","properties":{"title":"Pricing - Shop","url":"https://shop.example/pricing"}}`,
			want{kind: "page_view", subject: "Pricing", content: "https://shop.example/pricing"}},
		{"page title", "page", `{"anonymousId":"a","properties":{"title":"Pricing - Shop","url":"https://shop.example/pricing"}}`,
			want{kind: "page_view", subject: "Pricing - Shop", content: "https://shop.example/pricing"}},
		{"screen", "screen", `{"anonymousId":"a","name":"Checkout"}`, want{kind: "screen_view", subject: "Checkout"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := mapOne(t, c.kind, c.body)
			got := want{kind: in.Kind, subject: in.Subject, content: in.Content, value: in.Value, promo: in.PromoCode}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v (value %v), want %+v (value %v)", got, got.value, c.want, c.want.value)
			}
			if in.Direction != "passive" || in.IdentifyOnly {
				t.Fatalf("direction %q, identify only %v", in.Direction, in.IdentifyOnly)
			}
		})
	}
}

func TestToInputsCampaign(t *testing.T) {
	in := mapOne(t, "page", `{"anonymousId":"a","context":{"campaign":{"name":"spring","source":"google","medium":"cpc","term":"shoes","content":"ad1"}}}`)
	if want := (interaction.Campaign{Name: "spring", Source: "google", Medium: "cpc", Term: "shoes", Content: "ad1"}); in.Campaign != want {
		t.Fatalf("campaign %+v", in.Campaign)
	}
	in = mapOne(t, "track", `{"anonymousId":"a","event":"E","context":{"campaign":{"utm_campaign":"fall","utm_source":"news","utm_medium":"email","utm_term":"t","utm_content":"c"}}}`)
	if want := (interaction.Campaign{Name: "fall", Source: "news", Medium: "email", Term: "t", Content: "c"}); in.Campaign != want {
		t.Fatalf("campaign %+v", in.Campaign)
	}
}

// TestToInputsChangedMessage checks that a message changed after decoding is
// mapped as it is now.
func TestToInputsChangedMessage(t *testing.T) {
	m, err := Decode("page", []byte(`{"anonymousId":"a","context":{"campaign":{"name":"old"}},"properties":{"url":"https://old"}}`))
	if err != nil {
		t.Fatal(err)
	}
	m.Context = json.RawMessage(`{"campaign":{"name":"new"}}`)
	m.Properties = json.RawMessage(`{"url":"https://new"}`)
	in := ToInputs(testCP, []Message{m}, testReceived)[0]
	if in.Campaign.Name != "new" || in.Content != "https://new" {
		t.Fatalf("campaign %q, content %q", in.Campaign.Name, in.Content)
	}
	// And a message made by hand.
	in = ToInputs(testCP, []Message{{Type: "track", UserID: "u", Event: "Order Completed",
		Properties: json.RawMessage(`{"total":2}`), Context: json.RawMessage(`{"traits":{"email":"a@b.co"}}`)}}, testReceived)[0]
	if in.Value == nil || in.Value.Minor != 200 || len(in.Identifiers) != 2 {
		t.Fatalf("%+v", in)
	}
}

func TestToInputsIdentifyGroupAlias(t *testing.T) {
	in := mapOne(t, "identify", `{"userId":"u1","anonymousId":"a1","messageId":"i1","traits":{"email":"ann@example.com","name":"Ann","plan":"pro"},
		"context":{"traits":{"plan":"free","age":40}}}`)
	want := interaction.Input{
		Identifiers:    ids("user_id", "u1", "anonymous_id", "a1", "email", "ann@example.com"),
		Traits:         map[string]any{"email": "ann@example.com", "name": "Ann", "plan": "pro", "age": 40.0},
		ContactPointID: 777,
		OccurredAt:     testReceived,
		Source:         "segment:777",
		ExternalID:     "i1",
		IdentifyOnly:   true,
	}
	if !reflect.DeepEqual(in, want) {
		t.Fatalf("identify:\ngot  %+v\nwant %+v", in, want)
	}

	in = mapOne(t, "group", `{"userId":"u1","groupId":"acme","traits":{"name":"Acme Inc","employees":50}}`)
	if !in.IdentifyOnly || !reflect.DeepEqual(in.Traits, map[string]any{"groups": map[string]any{"acme": map[string]any{"name": "Acme Inc", "employees": 50.0}}}) {
		t.Fatalf("group: %+v", in)
	}
	in = mapOne(t, "group", `{"userId":"u1","groupId":9}`)
	if !reflect.DeepEqual(in.Traits, map[string]any{"groups": map[string]any{"9": map[string]any{}}}) {
		t.Fatalf("group without traits: %+v", in.Traits)
	}

	in = mapOne(t, "alias", `{"userId":"u2","previousId":"a1","anonymousId":"a9","messageId":"al1"}`)
	if !in.IdentifyOnly || !reflect.DeepEqual(in.Identifiers, ids("user_id", "u2")) ||
		in.Alias == nil || *in.Alias != (customer.RawIdentifier{Kind: "user_id", Value: "a1"}) || in.ExternalID != "al1" {
		t.Fatalf("alias: %+v alias %v", in, in.Alias)
	}
}

func TestToInputsProperties(t *testing.T) {
	msgs, err := DecodeBatch(BrowserBatch(3))
	if err != nil {
		t.Fatal(err)
	}
	ins := ToInputs(testCP, msgs, testReceived)
	for i, in := range ins {
		var p struct {
			Properties map[string]any `json:"properties"`
			Context    map[string]any `json:"context"`
		}
		if err := json.Unmarshal(in.Properties, &p); err != nil {
			t.Fatalf("input %d properties %s: %v", i, in.Properties, err)
		}
		if p.Properties["plan"] != "Pro" || p.Context["locale"] != "en-US" {
			t.Fatalf("input %d properties %s", i, in.Properties)
		}
		// Appending to one input's properties must not change another's.
		_ = append(in.Properties, "garbage"...)
	}
	for i, in := range ins {
		if !json.Valid(in.Properties) {
			t.Fatalf("input %d properties changed: %s", i, in.Properties)
		}
	}
	// The clock-skew correction: sent 223 ms after the event, received at testReceived.
	if want := testReceived.Add(-223 * time.Millisecond); !ins[0].OccurredAt.Equal(want) {
		t.Fatalf("occurred at %v, want %v", ins[0].OccurredAt, want)
	}

	// A context that would take the properties over the limit is left out.
	m, err := Decode("track", []byte(`{"anonymousId":"a","event":"E","properties":{"a":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	m.Context = json.RawMessage(`{"pad":"` + stringOf('x', maxProperties) + `"}`)
	in := ToInputs(testCP, []Message{m}, testReceived)[0]
	if string(in.Properties) != `{"properties":{"a":1}}` {
		t.Fatalf("properties %.100s", in.Properties)
	}
}

func stringOf(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
