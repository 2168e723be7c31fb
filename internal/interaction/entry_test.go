package interaction

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/touchpoint-hub/touchpoint/internal/customer"
	"github.com/touchpoint-hub/touchpoint/internal/id"
)

func sampleEntry() *entry {
	d, st, cs, sent, rating := int64(90000), id.ID(77), id.ID(88), -0.25, 7
	return &entry{at: time.UnixMicro(1790000000123456).UTC(), token: 1 << 40, promised: []id.ID{5, 0},
		inputs: []Input{{
			Identifiers:    []customer.RawIdentifier{{Kind: "anonymous_id", Value: "a-1"}, {Kind: "email", Value: "Ann@Example.com"}},
			ContactPointID: 42, Kind: "purchase", Direction: Inbound, OccurredAt: time.UnixMicro(1789999999000001).UTC(),
			DurationMS: &d, StaffID: &st, StaffName: "Bo", CaseID: &cs, Reason: "r", Outcome: "o", Subject: "Order Completed",
			Content: "https://shop.example/ü", Summary: "s", Sentiment: &sent, Rating: &rating, Value: &Money{Minor: -4990, Currency: "EUR"},
			Campaign: Campaign{Name: "n", Source: "s", Medium: "m", Term: "t", Content: "c"}, PromoCode: "SPRING", JourneyStage: "customer",
			Properties: []byte(`{"a":1}`), Source: "segment:1", ExternalID: "m-1", DeliveryStatus: "sent", NoCase: true,
		}, {
			Identifiers: []customer.RawIdentifier{}, ContactPointID: 1, Kind: "page_view", OccurredAt: time.UnixMicro(0).UTC(),
		}}}
}

// Every field of an input comes back from the journal as it went in.
func TestEntryRoundTrip(t *testing.T) {
	e := sampleEntry()
	got, err := decodeEntry(appendEntry(nil, e))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip changed the entry:\n got %+v\nwant %+v", got, e)
	}
}

// Short, long or altered bytes are refused with errEntry, never a panic.
func TestEntryRefusesDamage(t *testing.T) {
	b := appendEntry(nil, sampleEntry())
	for n := range len(b) {
		if _, err := decodeEntry(b[:n]); !errors.Is(err, errEntry) {
			t.Fatalf("the first %d of %d bytes: %v, want errEntry", n, len(b), err)
		}
	}
	if _, err := decodeEntry(append(bytes.Clone(b), 0)); !errors.Is(err, errEntry) {
		t.Fatalf("a byte too many: %v", err)
	}
	v2 := bytes.Clone(b)
	v2[0] = 2
	if _, err := decodeEntry(v2); !errors.Is(err, errEntry) {
		t.Fatalf("another version: %v", err)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(appendEntry(nil, sampleEntry()))
	f.Add([]byte{entryVersion, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		// What decodes is kept whole by a round trip (the bytes may
		// differ: a varint can be written longer than needed).
		again, err := decodeEntry(appendEntry(nil, e))
		if err != nil || !reflect.DeepEqual(again, e) {
			t.Fatalf("a decoded entry does not survive a round trip: %v\n%+v\n%+v", err, e, again)
		}
	})
}
